package simulate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// BenchmarkTrafficNext measures generating one delivery and its push JSON.
func BenchmarkTrafficNext(b *testing.B) {
	tr := mustTraffic(b, mustWorld(b, 1), TrafficOptions{DuplicateShare: 0.05, LateShare: 0.05, MalformedShare: 0.01, Users: 4000})
	b.ReportAllocs()
	for b.Loop() {
		d := tr.Next()
		_ = d.JSON(false)
	}
}

// BenchmarkPullReport measures serving a CSV report (per row) through the
// handler, redirect excluded.
func BenchmarkPullReport(b *testing.B) {
	w := mustWorld(b, 1)
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	mustTraffic(b, w, TrafficOptions{Start: start, Rate: 100}).Until(start.Add(10 * time.Minute))
	s, err := NewServer(w, ServerOptions{Tokens: []string{"t"}, Direct: true, QuotaPerDay: -1, Now: func() time.Time { return start.Add(time.Hour) }})
	if err != nil {
		b.Fatal(err)
	}
	app := w.Apps[0].ID
	rows := len(w.Query(app, appsflyer.ReportInAppEvents, start.Add(-time.Hour), start.Add(time.Hour)))
	req := httptest.NewRequest(http.MethodGet, "/api/raw-data/export/app/"+app+"/"+appsflyer.ReportInAppEvents+"/v5?from=2026-11-26&to=2026-11-26", nil)
	req.Header.Set("Authorization", "Bearer t")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		_, _ = io.Copy(io.Discard, rec.Body)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
