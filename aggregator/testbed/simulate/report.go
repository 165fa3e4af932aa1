package simulate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// reportQuery is a validated raw-data request.
type reportQuery struct {
	app, report string
	from, to    time.Time // to is exclusive
	loc         *time.Location
	maxRows     int
	additional  []string
	eventNames  map[string]bool
	mediaSource string
	geo         string
	fromDay     string // yyyy-mm-dd for the download token
	toDay       string
}

// dateRE is the from/to pattern of the raw-data OpenAPI spec.
var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$`)

// handleReport answers a raw-data report request in AppsFlyer's order:
// token, app, parameters, lookback, quota; then the 302 to a one-time URL.
func (s *Server) handleReport(rw http.ResponseWriter, r *http.Request) {
	if !s.authorize(rw, r) {
		return
	}
	appID, report := r.PathValue("app"), r.PathValue("report")
	if s.w.App(appID) == nil || !appsflyer.IsReport(report) {
		notFoundPage(rw)
		return
	}
	q, msg := parseReportQuery(r.URL.Query(), report)
	if msg != "" {
		jsonError(rw, http.StatusBadRequest, msg)
		return
	}
	q.app = appID
	now := s.opts.Now()
	y, m, d := now.UTC().Date()
	if q.from.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -appsflyer.LookbackDays)) {
		jsonError(rw, http.StatusBadRequest, appsflyer.MsgLookback)
		return
	}

	s.mu.Lock()
	key := quotaKey{appID, report, utcDay(now)}
	if lim := s.quota(report); lim >= 0 && s.calls[key] >= lim {
		s.mu.Unlock()
		jsonError(rw, http.StatusBadRequest, appsflyer.QuotaMessage(report))
		return
	}
	s.calls[key]++
	s.stats.Reports++
	s.mu.Unlock()

	events := s.selectEvents(q)
	if s.opts.Direct {
		s.writeCSV(r.Context(), rw, q, events)
		return
	}
	tok := s.newDownload(q, events, now)
	base := s.opts.DownloadBaseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	http.Redirect(rw, r, strings.TrimRight(base, "/")+"/export/token/"+url.PathEscape(tok), http.StatusFound)
}

// parseReportQuery validates the query string; msg is AppsFlyer's 400
// message when it is invalid.
func parseReportQuery(v url.Values, report string) (q reportQuery, msg string) {
	q.report = report
	q.loc = time.UTC
	if tz := v.Get("timezone"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return q, "Invalid timezone: " + tz
		}
		q.loc = loc
	}
	var toUnit time.Duration
	var ok bool
	if q.from, _, ok = parseDate(v, "from", q.loc); !ok {
		return q, dateMessage(v, "from")
	}
	var to time.Time
	if to, toUnit, ok = parseDate(v, "to", q.loc); !ok {
		return q, dateMessage(v, "to")
	}
	if toUnit == 24*time.Hour {
		y, m, d := to.Date()
		q.to = time.Date(y, m, d+1, 0, 0, 0, 0, q.loc)
	} else {
		q.to = to.Add(toUnit)
	}
	if !q.from.Before(q.to) {
		return q, "from date can't be after to date"
	}
	q.fromDay, q.toDay = q.from.Format("2006-01-02"), to.Format("2006-01-02")

	switch mr := v.Get("maximum_rows"); mr {
	case "":
		q.maxRows = appsflyer.MaxRowsDefault
	case strconv.Itoa(appsflyer.MaxRowsDefault), strconv.Itoa(appsflyer.MaxRowsLarge):
		q.maxRows, _ = strconv.Atoi(mr)
	default:
		return q, appsflyer.MsgInvalidLimit
	}
	for _, list := range v["additional_fields"] {
		for _, f := range strings.Split(list, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if _, known := appsflyer.AdditionalFields[f]; !known {
				return q, appsflyer.MsgUnknownField + ": " + f
			}
			q.additional = append(q.additional, f)
		}
	}
	if appsflyer.IsInAppReport(report) {
		for _, list := range v["event_name"] {
			for _, n := range strings.Split(list, ",") {
				if n = strings.TrimSpace(n); n != "" {
					if q.eventNames == nil {
						q.eventNames = map[string]bool{}
					}
					q.eventNames[n] = true
				}
			}
		}
	}
	q.mediaSource = v.Get("media_source")
	q.geo = v.Get("geo")
	return q, ""
}

// parseDate parses from/to in loc and returns the unit the value covers.
func parseDate(v url.Values, name string, loc *time.Location) (time.Time, time.Duration, bool) {
	s := v.Get(name)
	if !dateRE.MatchString(s) {
		return time.Time{}, 0, false
	}
	layout, unit := "2006-01-02", 24*time.Hour
	switch len(s) {
	case len("2006-01-02 15:04"):
		layout, unit = "2006-01-02 15:04", time.Minute
	case len("2006-01-02 15:04:05"):
		layout, unit = "2006-01-02 15:04:05", time.Second
	}
	t, err := time.ParseInLocation(layout, s, loc)
	return t, unit, err == nil
}

func dateMessage(v url.Values, name string) string {
	if v.Get(name) == "" {
		return fmt.Sprintf("Missing required parameter: %s", name)
	}
	return fmt.Sprintf("Invalid date format for %s, expected yyyy-mm-dd or yyyy-mm-dd hh:mm[:ss]", name)
}

// selectEvents returns the report's rows, newest first, silently truncated
// at the row cap as AppsFlyer does.
func (s *Server) selectEvents(q reportQuery) []*Event {
	all := s.w.Query(q.app, q.report, q.from, q.to)
	limit := q.maxRows
	if s.opts.RowCap > 0 {
		limit = s.opts.RowCap
	}
	out := all[:0]
	for _, e := range all {
		if len(out) == limit {
			break
		}
		if q.eventNames != nil && !q.eventNames[e.Name] {
			continue
		}
		if q.mediaSource != "" && e.User.Source.Name != q.mediaSource {
			continue
		}
		if q.geo != "" && e.User.country.Code != q.geo {
			continue
		}
		out = append(out, e)
	}
	return out
}

// writeCSV renders the report rows.
func (s *Server) writeCSV(ctx context.Context, rw http.ResponseWriter, q reportQuery, events []*Event) {
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", fmt.Sprintf("attachment;filename=%s_%s_%s_%s.csv", q.app, strings.TrimSuffix(q.report, "_report"), q.fromDay, q.toDay))
	rw.WriteHeader(http.StatusOK)
	w := appsflyer.NewRowWriter(rw, q.additional)
	w.SetLocation(q.loc)
	pace := s.opts.ServeDuration
	if len(events) < s.opts.ServeMinRows {
		pace = 0
	}
	start := time.Now()
	for i, e := range events {
		if err := w.Write(e.Fields()); err != nil {
			return // client went away
		}
		// Paced: row i leaves no earlier than its share of ServeDuration,
		// checked every few hundred rows and flushed so the client sees a
		// steady trickle rather than one late burst.
		if pace > 0 && i%256 == 255 {
			due := start.Add(time.Duration(float64(pace) * float64(i+1) / float64(len(events))))
			if err := w.Flush(); err != nil {
				return
			}
			if f, ok := rw.(http.Flusher); ok {
				f.Flush()
			}
			select {
			case <-time.After(time.Until(due)):
			case <-ctx.Done():
				return
			}
		}
	}
	if pace > 0 {
		select {
		case <-time.After(time.Until(start.Add(pace))):
		case <-ctx.Done():
			return
		}
	}
	_ = w.Flush()
	s.mu.Lock()
	s.stats.Rows += len(events)
	s.mu.Unlock()
}
