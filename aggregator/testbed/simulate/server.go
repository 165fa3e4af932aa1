package simulate

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// ServerOptions configure the fake Pull API. Zero values take the defaults.
type ServerOptions struct {
	// Tokens are the accepted API V2 tokens ("Authorization: Bearer ...").
	// Required.
	Tokens []string
	// SuspendedTokens are recognised but answered 401 "Account may be
	// suspended". Default none.
	SuspendedTokens []string
	// Now is the clock for daily quotas, the 90-day lookback and download
	// expiry. Default time.Now.
	Now func() time.Time
	// QuotaPerDay is the number of report calls allowed per app, report and
	// UTC day; the next call gets AppsFlyer's 400 quota answer. 0 means
	// AppsFlyer's numbers: 24 for installs reports, 12 for in-app events
	// reports. Negative means unlimited. Only calls that get a report
	// count; rejected calls (401, 404, 400) do not.
	QuotaPerDay int
	// RowCap, when > 0, replaces maximum_rows as the silent truncation cap,
	// so truncation is testable with small data. 0: maximum_rows.
	RowCap int
	// Direct answers the report with 200 and the CSV instead of a 302 to a
	// one-time download URL (false: redirect, as hq1 does).
	Direct bool
	// DownloadBaseURL is the scheme and host of one-time URLs (AppsFlyer
	// uses a second host, rawdata.appsflyer.com). Empty: the host the
	// request came to.
	DownloadBaseURL string
	// DownloadTTL is how long an unused download URL stays valid.
	DownloadTTL time.Duration
	// SlowDelay is how long a FaultSlow request is held before its answer
	// (or until the client gives up).
	SlowDelay time.Duration
	// ServeDuration, when > 0, paces every report body so that sending it
	// takes at least this long, rows spread evenly over it: a large report
	// from a slow download host. Default 0 (as fast as the client reads).
	ServeDuration time.Duration
	// ServeMinRows limits ServeDuration to reports of at least this many
	// rows, so small windows stay fast. Default 0 (every report).
	ServeMinRows int
	// ServerErrorStatus is the status of FaultServerError.
	ServerErrorStatus int
	// Log receives one debug line per request (never the token). Default
	// discards.
	Log *slog.Logger
}

// RegisterFlags registers the --pull.* settings of the fake Pull API; the
// defaults written here are the only ones.
func (o *ServerOptions) RegisterFlags(fs *flag.FlagSet) {
	settings.SecretList(fs, &o.Tokens, FlagPullToken, "accepted Pull API V2 token(s), comma-separated (prefer the env variable or --"+FlagPullToken+"-file)", "file holding the accepted Pull API token(s); wins over --"+FlagPullToken)
	o.QuotaPerDay = 0
	fs.Var((*quota)(&o.QuotaPerDay), FlagQuota, `report calls per app, report and UTC day: "appsflyer" (24 installs, 12 in-app), a number, or "unlimited"`)
	fs.IntVar(&o.RowCap, FlagRowCap, 0, "truncate reports at this many rows instead of maximum_rows; 0 = maximum_rows")
	fs.BoolVar(&o.Direct, FlagDirect, false, "answer reports with 200 + CSV instead of a 302 to a one-time download URL")
	fs.StringVar(&o.DownloadBaseURL, FlagDownloadBaseURL, "", "scheme://host of one-time download URLs; empty = the host the request came to")
	fs.DurationVar(&o.DownloadTTL, FlagDownloadTTL, 10*time.Minute, "how long an unused one-time download URL stays valid")
	fs.DurationVar(&o.SlowDelay, FlagSlowDelay, 5*time.Second, "how long a request with the slow fault is held before its answer")
	fs.IntVar(&o.ServerErrorStatus, FlagErrorStatus, http.StatusServiceUnavailable, "status (5xx) of a request with the server-error fault")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o ServerOptions) WithDefaults() ServerOptions {
	o = settings.WithDefaults(o, (*ServerOptions).RegisterFlags)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// quota is --pull.quota on QuotaPerDay: "appsflyer" (0), "unlimited" (-1)
// or a positive number.
type quota int

func (q *quota) String() string {
	switch {
	case q == nil || *q == 0:
		return "appsflyer"
	case *q < 0:
		return "unlimited"
	}
	return strconv.Itoa(int(*q))
}

func (q *quota) Set(s string) error {
	switch s {
	case "appsflyer":
		*q = 0
	case "unlimited":
		*q = -1
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("%q: want \"appsflyer\", \"unlimited\" or a positive number", s)
		}
		*q = quota(n)
	}
	return nil
}

func (o *ServerOptions) validate() error {
	switch {
	case len(o.Tokens) == 0:
		return fmt.Errorf("%s or %s-file: at least one API token is required to serve the Pull API", FlagPullToken, FlagPullToken)
	case o.RowCap < 0:
		return fmt.Errorf("%s %d: want >= 0", FlagRowCap, o.RowCap)
	case o.ServeDuration < 0 || o.ServeMinRows < 0:
		return fmt.Errorf("server option ServeDuration/ServeMinRows = %v/%d: want >= 0", o.ServeDuration, o.ServeMinRows)
	case o.DownloadTTL < 0 || o.SlowDelay < 0:
		return fmt.Errorf("%s/%s %v/%v: want >= 0", FlagDownloadTTL, FlagSlowDelay, o.DownloadTTL, o.SlowDelay)
	case o.ServerErrorStatus < 500 || o.ServerErrorStatus > 599:
		return fmt.Errorf("%s %d: want 5xx", FlagErrorStatus, o.ServerErrorStatus)
	case o.DownloadBaseURL != "" && !strings.HasPrefix(o.DownloadBaseURL, "http://") && !strings.HasPrefix(o.DownloadBaseURL, "https://"):
		return fmt.Errorf("%s %q: want an http(s) URL", FlagDownloadBaseURL, o.DownloadBaseURL)
	}
	for _, t := range append(append([]string(nil), o.Tokens...), o.SuspendedTokens...) {
		if t == "" {
			return fmt.Errorf("%s: empty token", FlagPullToken)
		}
	}
	return nil
}

// Server is the fake Pull API: an http.Handler for
// GET /api/raw-data/export/app/{app_id}/{report}/v5 and the one-time
// download URLs GET /export/token/{token}. Safe for concurrent use.
type Server struct {
	w    *World
	opts ServerOptions
	mux  *http.ServeMux

	mu        sync.Mutex
	rng       *rand.Rand
	calls     map[quotaKey]int
	downloads map[string]*download
	faults    faultState
	stats     ServerStats
}

// ServerStats counts what the server answered.
type ServerStats struct {
	Requests          int
	ByStatus          map[int]int
	Reports           int // reports produced (302 or direct 200)
	Rows              int // CSV rows served
	Downloads         int // one-time URLs served
	DownloadsWithAuth int // downloads that carried an Authorization header (clients should not forward it)
	Faults            int // requests answered by an injected fault
}

type quotaKey struct {
	app, report string
	day         int64 // UTC day number
}

var _ http.Handler = (*Server)(nil)

// NewServer returns the Pull API of the world.
func NewServer(w *World, opts ServerOptions) (*Server, error) {
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		w:         w,
		opts:      opts,
		mux:       http.NewServeMux(),
		rng:       rand.New(rand.NewPCG(uint64(w.Seed), 0x70756c6c)),
		calls:     map[quotaKey]int{},
		downloads: map[string]*download{},
		stats:     ServerStats{ByStatus: map[int]int{}},
	}
	s.mux.HandleFunc("GET /api/raw-data/export/app/{app}/{report}/v5", s.handleReport)
	s.mux.HandleFunc("GET /export/token/{token}", s.handleDownload)
	s.mux.HandleFunc("/", func(rw http.ResponseWriter, _ *http.Request) { notFoundPage(rw) })
	return s, nil
}

// ServeHTTP applies injected faults, then routes the request.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: rw}
	defer func() { s.record(sw.status) }()
	if f := s.nextFault(); f != FaultNone {
		s.mu.Lock()
		s.stats.Faults++
		s.mu.Unlock()
		s.opts.Log.Debug("simulated pull api fault", "fault", f.String(), "path", r.URL.Path)
		if !s.applyFault(f, sw, r) {
			return
		}
	}
	s.mux.ServeHTTP(sw, r)
	s.opts.Log.Debug("simulated pull api request", "path", r.URL.Path, "status", sw.status)
}

func (s *Server) record(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	s.stats.ByStatus[status]++
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = make(map[int]int, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	return st
}

// Calls returns how many calls of app/report count against today's (UTC)
// quota.
func (s *Server) Calls(app, report string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[quotaKey{app, report, utcDay(s.opts.Now())}]
}

func utcDay(t time.Time) int64 { return t.Unix() / 86400 } // floor for t >= 1970

// quota returns the daily call limit of a report (< 0 unlimited).
func (s *Server) quota(report string) int {
	if s.opts.QuotaPerDay != 0 {
		return s.opts.QuotaPerDay
	}
	if appsflyer.IsInAppReport(report) {
		return 12
	}
	return 24
}

// authorize checks the bearer token in constant time; it answers and
// returns false when the token is missing, unknown or suspended.
func (s *Server) authorize(rw http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok {
		for _, t := range s.opts.Tokens {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
				return true
			}
		}
		for _, t := range s.opts.SuspendedTokens {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
				jsonError(rw, http.StatusUnauthorized, appsflyer.MsgSuspended)
				return false
			}
		}
	}
	jsonError(rw, http.StatusUnauthorized, appsflyer.MsgInvalidToken)
	return false
}

// jsonError answers like AppsFlyer's API gateway: {"message": "..."}.
func jsonError(rw http.ResponseWriter, status int, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_, _ = rw.Write(marshal(map[string]string{"message": msg}))
}

// notFoundHTML is AppsFlyer's 404 page in spirit: HTML, not JSON, so
// clients that expect {"message"} must cope.
const notFoundHTML = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>AppsFlyer - 404</title></head>
<body><div class="error-page"><h1>404</h1><p>Oops! The page you are looking for cannot be found.</p>
<a href="https://www.appsflyer.com/">Back to AppsFlyer</a></div></body>
</html>
`

func notFoundPage(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(rw, notFoundHTML)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
