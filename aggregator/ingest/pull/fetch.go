package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// transientError marks a failure of the transport (timeout, dropped or
// refused connection, body cut short): the same request may succeed later.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func retryable(err error) bool {
	var t *transientError
	return errors.As(err, &t) || appsflyer.IsRetryable(err)
}

// newHTTPClient follows AppsFlyer's 302 to the one-time download host but
// never forwards the bearer token there.
func newHTTPClient() *http.Client {
	return &http.Client{
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			req.Header.Del("Authorization")
			return nil
		},
	}
}

// reportURL is the V2 raw-data URL of [from, to): the API's to is inclusive
// of its second, so the half-open window ends at to-1s.
func (p *Poller) reportURL(app, report string, from, to time.Time) string {
	q := url.Values{}
	q.Set("from", from.UTC().Format(appsflyer.CSVTimeLayout))
	q.Set("to", to.Add(-time.Second).UTC().Format(appsflyer.CSVTimeLayout))
	q.Set("maximum_rows", strconv.Itoa(p.opts.MaxRows))
	return p.base + "/api/raw-data/export/app/" + url.PathEscape(app) + "/" + report + "/v5?" + q.Encode()
}

// get requests a report; on 2xx the caller reads and closes the body. A
// non-2xx answer becomes an *appsflyer.APIError.
func (p *Poller) get(ctx context.Context, app, report string, from, to time.Time) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.reportURL(app, report, from, to), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+p.opts.Token)
	req.Header.Set("Accept", "text/csv")
	resp, err := p.http.Do(req)
	if err != nil {
		p.m.requests.WithLabelValues(report, "error").Inc()
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is safe, but keep errors short
		}
		return nil, &transientError{fmt.Errorf("request: %w", err)}
	}
	p.m.requests.WithLabelValues(report, statusClass(resp.StatusCode)).Inc()
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if rerr != nil && resp.StatusCode >= 500 {
		return nil, &transientError{fmt.Errorf("read %d answer: %w", resp.StatusCode, rerr)}
	}
	return nil, appsflyer.CheckHTTPResponse(resp, body, p.now())
}
