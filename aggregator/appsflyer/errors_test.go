package appsflyer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every answer AppsFlyer is known to send, as it sends it.
func TestCheckResponseClassifiesRealAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		kind      ErrorKind
		msg       string
		retryable bool
	}{
		{"quota as peers see it", 400, `{"message":"Your API calls limit has been reached for report type installs_report"}`, KindQuota, "Your API calls limit has been reached for report type installs_report", false},
		{"quota as the spec words it", 400, `{"message": "Your API call limit has been reached for the given report type"}`, KindQuota, "Your API call limit has been reached for the given report type", false},
		{"lookback", 400, `{"message":"Raw reports historical lookback is limited to 90 days"}`, KindLookback, MsgLookback, false},
		{"invalid limit type", 400, `{"message":"Invalid limit type"}`, KindBadRequest, MsgInvalidLimit, false},
		{"unknown additional field", 400, `{"message":"Unknown additional field: is_primary_attribution"}`, KindBadRequest, "Unknown additional field: is_primary_attribution", false},
		{"v1 plain text 400", 400, "400 Bad Request\n\nThe server could not comply with the request since it is either malformed or otherwise incorrect.\n\n\nReport timezone: GMT | Max line count: 200K", KindBadRequest, "400 Bad Request The server could not comply", false},
		{"invalid token", 401, `{"message":"Supplied API token is invalid"}`, KindInvalidToken, MsgInvalidToken, false},
		{"suspended", 401, `{"message":"Account may be suspended"}`, KindInvalidToken, MsgSuspended, false},
		{"404 html page", 404, "<!DOCTYPE html>\n<html><head><title>AppsFlyer - 404</title></head><body><h1>Oops</h1>" + strings.Repeat("<p>x</p>", 500) + "</body></html>", KindAppNotFound, "HTML error page: AppsFlyer - 404", false},
		{"aggregate limit", 403, `Limit reached for partners_report`, KindRateLimited, "Limit reached for partners_report", true},
		{"master api 403", 403, `{"message":"Unrecognized date format."}`, KindBadRequest, "Unrecognized date format.", false},
		{"429", 429, ``, KindRateLimited, "(empty body)", true},
		{"500", 500, `internal error`, KindServer, "internal error", true},
		{"503 html", 503, `<html><body>Service Unavailable</body></html>`, KindServer, "HTML error page", true},
		{"redirect not followed", 302, ``, KindUnexpected, "(empty body)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckResponse(tt.status, []byte(tt.body))
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if e.Kind != tt.kind || e.Status != tt.status || !strings.HasPrefix(e.Message, tt.msg) {
				t.Fatalf("got %d %s %q, want %d %s %q", e.Status, e.Kind, e.Message, tt.status, tt.kind, tt.msg)
			}
			if len(e.Message) > maxMessage+3 {
				t.Fatalf("message not clipped: %d bytes", len(e.Message))
			}
			if IsRetryable(fmt.Errorf("pull: %w", err)) != tt.retryable {
				t.Fatalf("IsRetryable = %v", !tt.retryable)
			}
			if IsQuota(err) != (tt.kind == KindQuota) {
				t.Fatal("IsQuota disagrees with Kind")
			}
		})
	}
	for _, s := range []int{200, 204, 299} {
		if err := CheckResponse(s, []byte("whatever")); err != nil {
			t.Errorf("status %d: %v", s, err)
		}
	}
}

func TestAPIErrorNeverCarriesTokens(t *testing.T) {
	body := `{"message":"bad token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc given in Bearer s3cr3t and api_token=0123 v1 1b2c3d4e-1234-5678-9abc-def012345678"}`
	err := CheckResponse(401, []byte(body))
	for _, secret := range []string{"eyJhbGci", "s3cr3t", "0123", "1b2c3d4e-1234"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks %q: %v", secret, err)
		}
	}
}

func TestCheckHTTPResponseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for name, tt := range map[string]struct {
		status int
		header string
		want   time.Duration
	}{
		"seconds":           {429, "7", 7 * time.Second},
		"http date":         {503, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		"past date":         {503, now.Add(-time.Hour).Format(http.TimeFormat), 0},
		"garbage":           {429, "soon", 0},
		"aggregate default": {403, "", 60 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			if tt.header != "" {
				resp.Header.Set("Retry-After", tt.header)
			}
			var e *APIError
			if !errors.As(CheckHTTPResponse(resp, []byte("Limit reached for geo_report"), now), &e) || e.RetryAfter != tt.want {
				t.Fatalf("got %+v, want RetryAfter %v", e, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestIsRetryableTransportErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		err  error
		want bool
	}{
		"nil":            {nil, false},
		"timeout":        {&url.Error{Op: "Get", URL: "u", Err: timeoutErr{}}, true},
		"reset":          {&url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, true},
		"refused":        {fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		"dropped (EOF)":  {&url.Error{Op: "Get", URL: "u", Err: io.EOF}, true},
		"truncated body": {fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), true},
		"canceled":       {context.Canceled, false},
		"bad header":     {ErrBadHeader, false},
		"plain error":    {errors.New("boom"), false},
	} {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("%s: IsRetryable = %v, want %v", name, got, tt.want)
		}
	}
}

func TestQuotaReset(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 26, 14, 3, 0, 0, time.UTC), time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 31, 23, 59, 59, 999, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		// 00:30 in Paris is still the previous UTC day.
		{time.Date(2026, 11, 27, 0, 30, 0, 0, paris), time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
	} {
		if got := QuotaReset(tt.now); !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("QuotaReset(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := KindUnexpected; k <= KindServer; k++ {
		if seen[k.String()] {
			t.Fatalf("duplicate name %s", k)
		}
		seen[k.String()] = true
	}
	if ErrorKind(99).String() != "kind_99" {
		t.Fatal("unknown kind name")
	}
}
