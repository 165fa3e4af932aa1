package push

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
)

// observed passes calls through to the real producer (kfake behind it) and
// remembers the last one, so the fuzz targets can check what was sent.
type observed struct {
	Publisher
	kind   string // "raw" or "dlq"
	value  []byte
	key    string
	reason string
}

func (o *observed) Publish(ctx context.Context, ev *event.Event, value []byte) error {
	o.kind, o.value, o.key = "raw", value, string(publish.Key(ev))
	return o.Publisher.Publish(ctx, ev, value)
}

func (o *observed) DeadLetter(ctx context.Context, origin, reason string, value []byte) error {
	o.kind, o.value, o.reason = "dlq", value, reason
	return o.Publisher.DeadLetter(ctx, origin, reason, value)
}

func fuzzReceiver(f *testing.F) (*Receiver, *observed) {
	w := newWorld(f, func(o *Options, _ *publish.Options) { o.MaxBodyBytes = 4096 })
	obs := &observed{Publisher: w.pub}
	r, err := New(w.recv.opts, Deps{Publisher: obs, Log: w.recv.deps.Log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		f.Fatal(err)
	}
	return r, obs
}

var knownReasons = func() []string {
	out := []string{publish.ReasonBadForm}
	for _, r := range event.Reasons {
		out = append(out, string(r))
	}
	return out
}()

// check holds for every input: 200 only with a parseable event published
// under its key; 400 only with a dead letter carrying a known reason.
func check(t *testing.T, obs *observed, code int) {
	t.Helper()
	switch code {
	case http.StatusOK:
		var ev event.Event
		if obs.kind != "raw" {
			t.Fatalf("200 without a publish (last call %q)", obs.kind)
		}
		if err := event.Parse(obs.value, &ev); err != nil {
			t.Fatalf("200 for an event that does not parse: %v", err)
		}
		if obs.key != ev.AppID+"|"+ev.AppsFlyerID {
			t.Fatalf("key %q", obs.key)
		}
	case http.StatusBadRequest:
		if obs.kind != "dlq" || !slices.Contains(knownReasons, obs.reason) {
			t.Fatalf("400 with last call %q reason %q", obs.kind, obs.reason)
		}
	case http.StatusRequestEntityTooLarge:
	default:
		t.Fatalf("status %d", code)
	}
}

func FuzzPushPOST(f *testing.F) {
	f.Add([]byte(validPush))
	f.Add([]byte(`{"app_id":"a","appsflyer_id":"b","event_name":"af_purchase","event_time":"2026-11-26 10:00:00","platform":"android","event_revenue":4.99,"wifi":true,"event_value":{"x":[1,null]}}`))
	f.Add([]byte(`{"app_id":"a"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte(`{"app_id":"a\u0000","appsflyer_id":"b","event_name":"x","event_time":"2026-02-30 10:00:00","platform":"ios"}`))
	r, obs := fuzzReceiver(f)
	h := r.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		*obs = observed{Publisher: obs.Publisher}
		req := httptest.NewRequest("POST", "/v1/push", strings.NewReader(string(body)))
		req.Header.Set("Authorization", testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(t, obs, rec.Code)
		if rec.Code == http.StatusOK && string(obs.value) != string(body) {
			t.Fatal("POST body changed on its way to raw_events")
		}
	})
}

func FuzzPushGET(f *testing.F) {
	f.Add("app_id=id1&appsflyer_id=2&event_name=install&event_time=2026-11-26+10%3A00%3A00.000&platform=ios")
	f.Add("app_id=id1&appsflyer_id=2&event_name=af_purchase&event_time=2026-11-26+10:00:00&platform=android&event_revenue=1.5&campaign=%22q%22%5C")
	f.Add("app_id=id1&app_id=id2&appsflyer_id=&event_name=x")
	f.Add("%zz=1")
	f.Add("")
	r, obs := fuzzReceiver(f)
	h := r.Handler()
	f.Fuzz(func(t *testing.T, query string) {
		if strings.ContainsAny(query, " #\r\n\t") || len(query) > 2048 {
			return // not a request line a client can send
		}
		*obs = observed{Publisher: obs.Publisher}
		req := httptest.NewRequest("GET", "/v1/push", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(t, obs, rec.Code)
	})
}
