package simulate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/clock"
)

// PusherOptions configure the Push API emitter. Zero values take the
// defaults.
type PusherOptions struct {
	// URL is the push endpoint. Required.
	URL string
	// Method is POST (JSON body, default) or GET (fields as query parameters).
	Method string
	// Token, when set, is sent in TokenHeader on every push, as AppsFlyer's
	// per-app push token. Never logged. Default none.
	Token string
	// TokenHeader is the header carrying Token. Default "Authorization".
	TokenHeader string
	// Typed sends JSON booleans and numbers instead of strings. Default
	// false (real pushes carry strings).
	Typed bool
	// Retries is how many times a 5xx answer is retried (AppsFlyer's partner
	// postbacks: 4, every 15 minutes). Default 0: at most once, as the V2
	// push documentation implies.
	Retries int
	// RetryInterval is the wait between retries. Default 15m.
	RetryInterval time.Duration
	// Sleep waits between retries and for pacing; tests inject it. Default
	// clock.Sleep (the wall clock).
	Sleep func(ctx context.Context, d time.Duration) error
	// Client sends the requests. Default a client with a 10s timeout.
	Client *http.Client
	// Log receives failures at debug level (never the token). Default
	// discards.
	Log *slog.Logger
}

func (o *PusherOptions) defaults() {
	if o.Method == "" {
		o.Method = http.MethodPost
	}
	if o.TokenHeader == "" {
		o.TokenHeader = "Authorization"
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = 15 * time.Minute
	}
	if o.Sleep == nil {
		o.Sleep = clock.Sleep
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func (o *PusherOptions) validate() error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("pusher option URL = %q: want an http(s) URL", o.URL)
	case o.Method != http.MethodPost && o.Method != http.MethodGet:
		return fmt.Errorf("pusher option Method = %q: want POST or GET", o.Method)
	case o.Retries < 0:
		return fmt.Errorf("pusher option Retries = %d: want >= 0", o.Retries)
	case o.RetryInterval < 0:
		return fmt.Errorf("pusher option RetryInterval = %v: want >= 0", o.RetryInterval)
	case strings.ContainsAny(o.TokenHeader, " :\r\n"):
		return fmt.Errorf("pusher option TokenHeader = %q: not a header name", o.TokenHeader)
	}
	return nil
}

// Pusher sends deliveries to a push receiver like AppsFlyer's Push API.
// Safe for concurrent use.
type Pusher struct {
	opts PusherOptions
	base *url.URL
}

// Result is the outcome of one delivery.
type Result struct {
	Delivery Delivery
	// Raw is the raw event as a receiver would put it on raw_events: the
	// JSON body, or for GET the query converted by appsflyer.PushQueryToJSON.
	// Feed it to Truth.Observe when Accepted.
	Raw      []byte
	Status   int // last HTTP status; 0 if never answered
	Attempts int // HTTP requests made (0 for a dropped delivery)
	Err      error
}

// Accepted reports whether the receiver answered 2xx.
func (r *Result) Accepted() bool { return r.Status >= 200 && r.Status < 300 }

// NewPusher validates the options.
func NewPusher(opts PusherOptions) (*Pusher, error) {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(opts.URL)
	return &Pusher{opts: opts, base: u}, nil
}

// Send delivers one push, retrying 5xx answers if configured. A Dropped
// delivery is not sent at all.
func (p *Pusher) Send(ctx context.Context, d Delivery) Result {
	res := Result{Delivery: d}
	var body []byte
	var query url.Values
	if p.opts.Method == http.MethodGet {
		query = d.Query()
		res.Raw = appsflyer.PushQueryToJSON(query)
	} else {
		body = d.JSON(p.opts.Typed)
		res.Raw = body
	}
	if d.Dropped {
		return res
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := p.opts.Sleep(ctx, p.opts.RetryInterval); err != nil {
				res.Err = fmt.Errorf("push delivery %d: %w", d.Seq, err)
				return res
			}
		}
		res.Attempts++
		status, err := p.do(ctx, body, query)
		res.Status, res.Err = status, err
		if err != nil {
			p.opts.Log.Debug("push failed", "seq", d.Seq, "err", err)
		}
		if status < 500 || attempt >= p.opts.Retries || ctx.Err() != nil {
			return res
		}
	}
}

func (p *Pusher) do(ctx context.Context, body []byte, query url.Values) (int, error) {
	u := *p.base
	var rd io.Reader
	if query != nil {
		q := u.Query()
		for k, v := range query {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	} else {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, p.opts.Method, u.String(), rd)
	if err != nil {
		return 0, fmt.Errorf("build push request: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "AppsFlyer-PushAPI-simulator/2.0")
	if p.opts.Token != "" {
		req.Header.Set(p.opts.TokenHeader, p.opts.Token)
	}
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("push to %s: %w", safeURL(p.base), scrubURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// safeURL is the endpoint without credentials or query (which may carry a
// token), for errors and logs.
func safeURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// scrubURLError drops the URL (which may carry query fields) from a client
// error, keeping the cause.
func scrubURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// RunOptions drive Pusher.Run.
type RunOptions struct {
	// Count stops after this many deliveries; 0 runs until ctx is done.
	Count int
	// Workers is the number of concurrent requests. Default 8.
	Workers int
	// Pace sends each delivery at its At on Now, offset so the first goes
	// out immediately; false sends as fast as the receiver allows.
	Pace bool
	// Now is the clock for pacing. Default time.Now.
	Now func() time.Time
}

// Run pulls deliveries from tr and sends them with Workers concurrent
// requests, calling onResult (from several goroutines) for each. It returns
// when Count deliveries are done or ctx ends.
func (p *Pusher) Run(ctx context.Context, tr *Traffic, ro RunOptions, onResult func(Result)) error {
	if ro.Workers <= 0 {
		ro.Workers = 8
	}
	if ro.Now == nil {
		ro.Now = time.Now
	}
	if ro.Count < 0 {
		return fmt.Errorf("push run option Count = %d: want >= 0", ro.Count)
	}
	jobs := make(chan Delivery, ro.Workers)
	var wg sync.WaitGroup
	for range ro.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				r := p.Send(ctx, d)
				if onResult != nil {
					onResult(r)
				}
			}
		}()
	}
	var err error
	var offset time.Duration
	for i := 0; ro.Count == 0 || i < ro.Count; i++ {
		d := tr.Next()
		if ro.Pace {
			if i == 0 {
				offset = ro.Now().Sub(d.At)
			}
			if err = p.opts.Sleep(ctx, d.At.Add(offset).Sub(ro.Now())); err != nil {
				break
			}
		}
		select {
		case jobs <- d:
			continue
		case <-ctx.Done():
			err = ctx.Err()
		}
		break
	}
	close(jobs)
	wg.Wait()
	if err != nil && ro.Count == 0 && ctx.Err() != nil {
		return nil // running until cancelled is the normal end
	}
	return err
}
