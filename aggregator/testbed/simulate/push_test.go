package simulate

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// receiver records pushes and answers with status(n) for the n-th request.
type receiver struct {
	mu      sync.Mutex
	reqs    []*http.Request
	bodies  [][]byte
	status  func(n int) int
	records int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.reqs)
	rc.reqs = append(rc.reqs, r)
	rc.bodies = append(rc.bodies, b)
	rc.mu.Unlock()
	code := http.StatusOK
	if rc.status != nil {
		code = rc.status(n)
	}
	w.WriteHeader(code)
}

func newReceiver(t *testing.T, status func(int) int) (*receiver, *httptest.Server) {
	rc := &receiver{status: status}
	ts := httptest.NewServer(rc)
	t.Cleanup(ts.Close)
	return rc, ts
}

func mustPusher(t *testing.T, o PusherOptions) *Pusher {
	t.Helper()
	p, err := NewPusher(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPusherPostsRealShapedJSON(t *testing.T) {
	rc, ts := newReceiver(t, nil)
	p := mustPusher(t, PusherOptions{URL: ts.URL + "/appsflyer", Token: "s3cret", TokenHeader: "X-Push-Token"})
	tr := mustTraffic(t, mustWorld(t, 3), TrafficOptions{DropShare: 0.2})
	ds := tr.Take(200)
	var sent int
	for _, d := range ds {
		res := p.Send(context.Background(), d)
		if d.Dropped {
			if res.Attempts != 0 || res.Status != 0 {
				t.Fatalf("dropped delivery was sent: %+v", res)
			}
			continue
		}
		sent++
		if !res.Accepted() || res.Attempts != 1 || res.Err != nil {
			t.Fatalf("result %+v", res)
		}
	}
	if len(rc.reqs) != sent || sent == 0 || sent == len(ds) {
		t.Fatalf("%d requests for %d non-dropped of %d", len(rc.reqs), sent, len(ds))
	}
	for i, r := range rc.reqs {
		if r.Method != http.MethodPost || r.URL.Path != "/appsflyer" || r.Header.Get("X-Push-Token") != "s3cret" || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("request %d: %s %s headers %v", i, r.Method, r.URL.Path, r.Header)
		}
		var m map[string]any
		if err := json.Unmarshal(rc.bodies[i], &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			if s, ok := v.(string); !ok || s == "" {
				t.Fatalf("%s = %#v: push values must be non-empty strings", k, v)
			}
		}
		if m["api_version"] != "2.0" || len(m["event_time"].(string)) != len(appsflyer.PushTimeLayout) {
			t.Fatalf("api_version %v event_time %v", m["api_version"], m["event_time"])
		}
	}
}

func TestPusherTypedAndGetForms(t *testing.T) {
	rc, ts := newReceiver(t, nil)
	d := mustTraffic(t, mustWorld(t, 3), TrafficOptions{}).Next()
	typed := mustPusher(t, PusherOptions{URL: ts.URL, Typed: true})
	typed.Send(context.Background(), d)
	var m map[string]any
	if err := json.Unmarshal(rc.bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["wifi"].(bool); !ok {
		t.Fatalf("typed wifi = %#v", m["wifi"])
	}
	get := mustPusher(t, PusherOptions{URL: ts.URL + "/pb?src=af", Method: http.MethodGet})
	res := get.Send(context.Background(), d)
	r := rc.reqs[1]
	if r.Method != http.MethodGet || len(rc.bodies[1]) != 0 || r.URL.Query().Get("src") != "af" || r.URL.Query().Get("appsflyer_id") != d.Event.User.AppsFlyerID {
		t.Fatalf("GET postback %s %s", r.Method, r.URL)
	}
	q := r.URL.Query()
	q.Del("src")
	if string(appsflyer.PushQueryToJSON(q)) != string(res.Raw) || string(res.Raw) != string(marshal(d.Fields())) {
		t.Fatalf("GET raw event differs from the fields:\n%s\n%s", res.Raw, marshal(d.Fields()))
	}
}

func TestPusherRetriesOnly5xx(t *testing.T) {
	d := mustTraffic(t, mustWorld(t, 3), TrafficOptions{}).Next()
	for name, c := range map[string]struct {
		status   func(int) int
		retries  int
		attempts int
		final    int
	}{
		"no retries by default":  {func(int) int { return 503 }, 0, 1, 503},
		"retried until success":  {func(n int) int { return []int{500, 502, 200}[min(n, 2)] }, 4, 3, 200},
		"gives up after retries": {func(int) int { return 503 }, 4, 5, 503},
		"4xx is never retried":   {func(int) int { return 400 }, 4, 1, 400},
		"401 is never retried":   {func(int) int { return 401 }, 4, 1, 401},
	} {
		t.Run(name, func(t *testing.T) {
			var vc clock.Virtual
			rc, ts := newReceiver(t, c.status)
			p := mustPusher(t, PusherOptions{URL: ts.URL, Retries: c.retries, Sleep: vc.Sleep})
			res := p.Send(context.Background(), d)
			waits := vc.Waits()
			if res.Attempts != c.attempts || res.Status != c.final || len(rc.reqs) != c.attempts {
				t.Fatalf("attempts %d status %d requests %d; want %d %d", res.Attempts, res.Status, len(rc.reqs), c.attempts, c.final)
			}
			for _, w := range waits {
				if w != 15*time.Minute {
					t.Fatalf("retry wait %v, want AppsFlyer's 15m", w)
				}
			}
			if len(waits) != c.attempts-1 {
				t.Fatalf("%d waits for %d attempts", len(waits), c.attempts)
			}
		})
	}
}

// TestPusherRetryIntervalOff: an interval switched off retries at once
// instead of falling back to the 15m default.
func TestPusherRetryIntervalOff(t *testing.T) {
	var vc clock.Virtual
	_, ts := newReceiver(t, func(int) int { return 503 })
	p := mustPusher(t, PusherOptions{URL: ts.URL, Retries: 2, RetryInterval: settings.Off, Sleep: vc.Sleep})
	if res := p.Send(context.Background(), mustTraffic(t, mustWorld(t, 3), TrafficOptions{}).Next()); res.Attempts != 3 {
		t.Fatalf("%d attempts, want 3", res.Attempts)
	}
	if got := vc.Waits(); !slices.Equal(got, []time.Duration{0, 0}) {
		t.Fatalf("retry waits %v, want two of 0", got)
	}
}

func TestPusherTransportErrorNeverLeaksToken(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	addr := ts.URL
	ts.Close()
	p := mustPusher(t, PusherOptions{URL: addr + "/?token=abc", Token: "s3cret", Method: http.MethodGet})
	res := p.Send(context.Background(), mustTraffic(t, mustWorld(t, 3), TrafficOptions{}).Next())
	if res.Err == nil || res.Status != 0 {
		t.Fatalf("result %+v", res)
	}
	if msg := res.Err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "abc") || strings.Contains(msg, "appsflyer_id") {
		t.Fatalf("error leaks secrets or fields: %s", msg)
	}
}

func TestPusherRunFeedsTruth(t *testing.T) {
	rc, ts := newReceiver(t, nil)
	w := mustWorld(t, 8)
	tr := mustTraffic(t, w, TrafficOptions{DuplicateShare: 0.1, MalformedShare: 0.05, DropShare: 0.1})
	p := mustPusher(t, PusherOptions{URL: ts.URL})
	var mu sync.Mutex
	var results []Result
	if err := p.Run(context.Background(), tr, RunOptions{Count: 500, Workers: 4}, func(r Result) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if len(results) != 500 {
		t.Fatalf("%d results", len(results))
	}
	sent := NewTruth(nil)
	received := NewTruth(nil)
	for _, r := range results {
		if r.Accepted() {
			sent.Observe(r.Raw)
		}
	}
	for _, b := range rc.bodies {
		received.Observe(b)
	}
	if sent.Produced() != int64(len(rc.bodies)) || sent.Total() != received.Total() || sent.Malformed() == 0 || sent.Duplicates() == 0 {
		t.Fatalf("sent %d/%+v, received %d/%+v", sent.Produced(), sent.Total(), len(rc.bodies), received.Total())
	}
	for k, v := range received.Windows(metricdoc.Hour) {
		if sent.Windows(metricdoc.Hour)[k] != v {
			t.Fatal("accepted results and received bodies disagree")
		}
	}
}

func TestPusherRunPacesByDeliveryTime(t *testing.T) {
	_, ts := newReceiver(t, nil)
	vc := clock.NewVirtual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	tr := mustTraffic(t, mustWorld(t, 8), TrafficOptions{Rate: 10})
	p := mustPusher(t, PusherOptions{URL: ts.URL, Sleep: vc.Sleep})
	var last Delivery
	var first time.Time
	if err := p.Run(context.Background(), tr, RunOptions{Count: 100, Workers: 1, Pace: true, Now: vc.Now}, func(r Result) {
		if first.IsZero() {
			first = r.Delivery.At
		}
		last = r.Delivery
	}); err != nil {
		t.Fatal(err)
	}
	var slept time.Duration
	for _, d := range vc.Waits() {
		slept += max(d, 0)
	}
	if span := last.At.Sub(first); slept < span-time.Millisecond || slept > span+time.Millisecond {
		t.Fatalf("slept %v for a delivery span of %v", slept, span)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx, tr, RunOptions{Workers: 2}, nil); err != nil {
		t.Fatalf("a cancelled endless run must end cleanly: %v", err)
	}
}

func TestPusherOptionsValidate(t *testing.T) {
	for name, o := range map[string]PusherOptions{
		FlagPushURL:           {URL: "localhost:8080"},
		FlagPushMethod:        {URL: "http://x", Method: "PUT"},
		FlagPushRetries:       {URL: "http://x", Retries: -1},
		FlagPushTokenHeader:   {URL: "http://x", TokenHeader: "Bad Header"},
		FlagPushRetryInterval: {URL: "http://x", RetryInterval: -time.Second},
		FlagPushTimeout:       {URL: "http://x", Timeout: -time.Second},
	} {
		if _, err := NewPusher(o); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the option", name, err)
		}
	}
}
