package simulate

import (
	"bytes"
	"context"
	"flag"
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
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// PusherOptions configure the Push API emitter. Zero values take the
// defaults.
type PusherOptions struct {
	// URL is the push endpoint. Required.
	URL string
	// Method is POST (JSON body) or GET (fields as query parameters).
	Method string
	// Token, when set, is sent in TokenHeader on every push, as AppsFlyer's
	// per-app push token. Never logged.
	Token string
	// TokenHeader is the header carrying Token.
	TokenHeader string
	// Typed sends JSON booleans and numbers instead of strings (real pushes
	// carry strings).
	Typed bool
	// Retries is how many times a 5xx answer is retried (AppsFlyer's partner
	// postbacks: 4, every 15 minutes). 0: at most once, as the V2 push
	// documentation implies.
	Retries int
	// RetryInterval is the wait between retries; settings.Off retries at
	// once.
	RetryInterval time.Duration
	// Timeout bounds one push request when Client is nil.
	Timeout time.Duration
	// Sleep waits between retries and for pacing; tests inject it. Default
	// clock.Sleep (the wall clock).
	Sleep func(ctx context.Context, d time.Duration) error
	// Client sends the requests. Default a client with Timeout.
	Client *http.Client
	// Log receives failures at debug level (never the token). Default
	// discards.
	Log *slog.Logger
}

// RegisterFlags registers the --push.* settings of the emitter; the
// defaults written here are the only ones.
func (o *PusherOptions) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.URL, FlagPushURL, "", "push endpoint (e.g. http://127.0.0.1:8080/appsflyer); empty = generate traffic for the Pull API only")
	fs.StringVar(&o.Method, FlagPushMethod, http.MethodPost, "POST (JSON body) or GET (fields as query parameters)")
	settings.Secret(fs, &o.Token, FlagPushToken, "", "static push token sent in --"+FlagPushTokenHeader+" (prefer the env variable or --"+FlagPushToken+"-file)", "file holding the push token; wins over --"+FlagPushToken)
	fs.StringVar(&o.TokenHeader, FlagPushTokenHeader, "Authorization", "header carrying the push token")
	fs.BoolVar(&o.Typed, FlagPushTyped, false, "send JSON booleans and numbers instead of strings")
	fs.IntVar(&o.Retries, FlagPushRetries, 0, "retry a 5xx answer this many times (AppsFlyer partner postbacks: 4)")
	settings.OffDuration(fs, &o.RetryInterval, FlagPushRetryInterval, 15*time.Minute, "wait between push retries; 0 = retry at once")
	fs.DurationVar(&o.Timeout, FlagPushTimeout, 10*time.Second, "timeout of one push request")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o PusherOptions) WithDefaults() PusherOptions {
	o = settings.WithDefaults(o, (*PusherOptions).RegisterFlags)
	if o.Sleep == nil {
		o.Sleep = clock.Sleep
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func (o *PusherOptions) validate() error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%s %q: want an http(s) URL", FlagPushURL, o.URL)
	case o.Method != http.MethodPost && o.Method != http.MethodGet:
		return fmt.Errorf("%s %q: want POST or GET", FlagPushMethod, o.Method)
	case o.Retries < 0:
		return fmt.Errorf("%s %d: want >= 0", FlagPushRetries, o.Retries)
	case o.RetryInterval < 0 && o.RetryInterval != settings.Off:
		return fmt.Errorf("%s %v: want >= 0", FlagPushRetryInterval, o.RetryInterval)
	case o.Timeout <= 0:
		return fmt.Errorf("%s %v: want > 0", FlagPushTimeout, o.Timeout)
	case strings.ContainsAny(o.TokenHeader, " :\r\n"):
		return fmt.Errorf("%s %q: not a header name", FlagPushTokenHeader, o.TokenHeader)
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
	opts = opts.WithDefaults()
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
			if err := p.opts.Sleep(ctx, settings.Duration(p.opts.RetryInterval)); err != nil {
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
