package localapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestQueryRejectsBadRange(t *testing.T) {
	h := Handler(nil, nil) // the range is checked before the datasource is asked
	for _, q := range []string{"from=yesterday", "to=2026-13-01T00:00:00Z"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/query?"+q, strings.NewReader(`{}`)))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, rec.Code)
		}
	}
}
