package simulate

import (
	"net/http"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// download is a prepared report behind a one-time URL.
type download struct {
	q       reportQuery
	events  []*Event
	expires time.Time
}

// reportSlugs are the report names as they appear in download tokens
// (observed: lego_test__organic-in-app-events_2024-06-10_2024-06-11_JMQHXSDLCBLSWFW).
var reportSlugs = map[string]string{
	appsflyer.ReportInstalls:           "installs",
	appsflyer.ReportInAppEvents:        "in-app-events",
	appsflyer.ReportOrganicInstalls:    "organic-installs",
	appsflyer.ReportOrganicInAppEvents: "organic-in-app-events",
}

// newDownload stores the report and returns its token
// <app>__<slug>_<from>_<to>_<15 uppercase letters>.
func (s *Server) newDownload(q reportQuery, events []*Event, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, d := range s.downloads {
		if now.After(d.expires) {
			delete(s.downloads, tok)
		}
	}
	for {
		var b strings.Builder
		b.WriteString(q.app + "__" + reportSlugs[q.report] + "_" + q.fromDay + "_" + q.toDay + "_")
		for range 15 {
			b.WriteByte(byte('A' + s.rng.IntN(26)))
		}
		tok := b.String()
		if _, taken := s.downloads[tok]; !taken {
			s.downloads[tok] = &download{q: q, events: events, expires: now.Add(s.opts.DownloadTTL)}
			return tok
		}
	}
}

// handleDownload serves a prepared report once; a second use, an unknown or
// an expired token gets the 404 page.
func (s *Server) handleDownload(rw http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	s.mu.Lock()
	d := s.downloads[tok]
	delete(s.downloads, tok)
	if d != nil {
		s.stats.Downloads++
		if r.Header.Get("Authorization") != "" {
			s.stats.DownloadsWithAuth++
		}
	}
	s.mu.Unlock()
	if d == nil || s.opts.Now().After(d.expires) {
		notFoundPage(rw)
		return
	}
	s.writeCSV(r.Context(), rw, d.q, d.events)
}
