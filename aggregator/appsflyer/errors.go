package appsflyer

import (
	"bytes"
	"encoding/json"
	"errors"

	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Errors of the CSV reader.
var (
	// ErrBadHeader: the body is not a raw-data report (empty, or a required
	// column is missing).
	ErrBadHeader = errors.New("not a raw-data report")
	// ErrRaggedRow: a row has a different number of cells than the header.
	ErrRaggedRow = errors.New("ragged row")
)

// RowError is one bad CSV row. It is recoverable: RowReader.Next can be
// called again to read the following rows.
type RowError struct {
	Line int // line where the row starts (the header is line 1)
	Err  error
}

func (e *RowError) Error() string {
	return "report line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

func (e *RowError) Unwrap() error { return e.Err }

// ErrorKind classifies an AppsFlyer error answer by what a client should do.
type ErrorKind int

// Error kinds.
const (
	KindUnexpected   ErrorKind = iota // any other non-2xx status: permanent
	KindQuota                         // 400 daily quota: wait for QuotaReset
	KindLookback                      // 400 older than 90 days: permanent for that range
	KindInvalidToken                  // 401 invalid token or suspended account: stop
	KindAppNotFound                   // 404 HTML page: unknown app or token not for it: stop
	KindBadRequest                    // other 400 (Invalid limit type, unknown field, ...) and 403: permanent
	KindRateLimited                   // 429 or aggregate 403 "Limit reached for": retry after RetryAfter
	KindServer                        // 5xx: retry with backoff
)

var kindNames = [...]string{"unexpected", "quota", "lookback", "invalid_token", "app_not_found", "bad_request", "rate_limited", "server"}

// String returns a snake_case name, usable as a low-cardinality metric label.
func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind_" + strconv.Itoa(int(k))
}

// Messages AppsFlyer sends, and the substrings clients match them by.
const (
	MsgQuota           = "Your API calls limit has been reached for report type"
	MsgLookback        = "Raw reports historical lookback is limited to 90 days"
	MsgInvalidLimit    = "Invalid limit type"
	MsgInvalidToken    = "Supplied API token is invalid"
	MsgSuspended       = "Account may be suspended"
	MsgUnknownField    = "Unknown additional field"
	MsgAggregateLimit  = "Limit reached for "
	aggregateRetryWait = 60 * time.Second
)

// APIError is a non-2xx answer of an AppsFlyer API. Message is AppsFlyer's
// message (the JSON "message", or a short description of an HTML page),
// with anything resembling a token redacted.
type APIError struct {
	Status     int
	Kind       ErrorKind
	Message    string
	RetryAfter time.Duration // from Retry-After, or 60 s for an aggregate "Limit reached for"; 0 if unknown
}

func (e *APIError) Error() string {
	return "appsflyer " + strconv.Itoa(e.Status) + " " + e.Kind.String() + ": " + e.Message
}

// CheckResponse returns nil for a 2xx status and an *APIError otherwise.
func CheckResponse(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	msg := errorMessage(body)
	e := &APIError{Status: status, Message: msg}
	lower := strings.ToLower(msg)
	switch {
	case status == http.StatusBadRequest && (strings.Contains(lower, "limit has been reached") || strings.Contains(lower, "limit reached")):
		e.Kind = KindQuota
	case status == http.StatusBadRequest && strings.Contains(lower, "lookback"):
		e.Kind = KindLookback
	case status == http.StatusBadRequest:
		e.Kind = KindBadRequest
	case status == http.StatusUnauthorized:
		e.Kind = KindInvalidToken
	case status == http.StatusForbidden && strings.Contains(lower, "limit reached for"):
		e.Kind, e.RetryAfter = KindRateLimited, aggregateRetryWait
	case status == http.StatusForbidden:
		e.Kind = KindBadRequest
	case status == http.StatusNotFound:
		e.Kind = KindAppNotFound
	case status == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
	case status >= 500:
		e.Kind = KindServer
	default:
		e.Kind = KindUnexpected
	}
	return e
}

// CheckHTTPResponse is CheckResponse for an *http.Response whose body the
// caller has read; it also honours a Retry-After header (seconds or an HTTP
// date relative to now).
func CheckHTTPResponse(resp *http.Response, body []byte, now time.Time) error {
	err := CheckResponse(resp.StatusCode, body)
	var e *APIError
	if errors.As(err, &e) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			e.RetryAfter = d
		}
	}
	return err
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

const maxMessage = 300

// errorMessage extracts AppsFlyer's message from an error body: JSON
// {"message": ...}, an HTML page (reduced to its <title> or a fixed text,
// never the whole page), or plain text (first non-empty lines).
func errorMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	var j struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	var msg string
	switch {
	case len(body) == 0:
		msg = "(empty body)"
	case body[0] == '{' && json.Unmarshal(body, &j) == nil && (j.Message != "" || j.Error != ""):
		msg = j.Message
		if msg == "" {
			msg = j.Error
		}
	case bytes.HasPrefix(bytes.ToLower(body[:min(len(body), 64)]), []byte("<!doctype h")) || bytes.HasPrefix(bytes.ToLower(body[:min(len(body), 64)]), []byte("<html")):
		msg = "HTML error page"
		if m := titleRE.FindSubmatch(body); m != nil {
			msg += ": " + strings.TrimSpace(string(m[1]))
		}
	default:
		msg = strings.Join(strings.Fields(string(body)), " ")
	}
	msg = redact(msg)
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "..."
	}
	return msg
}

var (
	titleRE  = regexp.MustCompile(`(?is)<title>(.{0,200}?)</title>`)
	secretRE = regexp.MustCompile(`(?i)(bearer\s+\S+|eyJ[A-Za-z0-9_\-.]{8,}|api_token=[^&\s]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`)
)

// redact removes bearer tokens, JWT-like V2 tokens and UUID V1 tokens.
func redact(s string) string { return secretRE.ReplaceAllString(s, "[redacted]") }

// IsRetryable reports whether a request may succeed if simply retried with
// backoff: a 5xx, a 429 or aggregate throttle, a timeout or a broken
// connection. Quota errors are not: they need a wait until QuotaReset.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var e *APIError
	if errors.As(err, &e) {
		return e.Kind == KindServer || e.Kind == KindRateLimited
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// IsQuota reports whether err is the daily raw-data quota answer.
func IsQuota(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Kind == KindQuota
}

// QuotaReset returns when a daily quota hit at now resets: the next 00:00
// UTC strictly after now.
func QuotaReset(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// QuotaMessage is the body message of a raw-data quota answer for report.
func QuotaMessage(report string) string { return MsgQuota + " " + report }
