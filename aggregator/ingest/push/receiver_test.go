package push

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

func TestAuth(t *testing.T) {
	w := newWorld(t, nil)
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"missing header", nil, 401},
		{"wrong token", map[string]string{"Authorization": "nope"}, 401},
		{"token prefix", map[string]string{"Authorization": testToken[:len(testToken)-1]}, 401},
		{"token with suffix", map[string]string{"Authorization": testToken + "x"}, 401},
		{"bearer-wrapped token", map[string]string{"Authorization": "Bearer " + testToken}, 401},
		{"token in another header", map[string]string{"X-Token": testToken}, 401},
		{"right token", authed, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(w.do("POST", "/v1/push", validPush, tt.hdr)); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
	// Only the authorized request reached Kafka.
	if n := len(w.records(t, metricdoc.TopicRawEvents)); n != 1 {
		t.Fatalf("raw_events has %d records, want 1", n)
	}
	if n := value(t, w.recv.m.requests.WithLabelValues("401")); n != 6 {
		t.Fatalf("401 counter %v, want 6", n)
	}
}

func TestCustomTokenHeader(t *testing.T) {
	w := newWorld(t, func(o *Options, _ *publish.Options) { o.TokenHeader = "X-AF-Push-Token" })
	if got := status(w.do("POST", "/v1/push", validPush, authed)); got != 401 {
		t.Fatalf("token in Authorization with X-AF-Push-Token configured: %d, want 401", got)
	}
	if got := status(w.do("POST", "/v1/push", validPush, map[string]string{"X-AF-Push-Token": testToken})); got != 200 {
		t.Fatalf("status %d, want 200", got)
	}
}

func TestValidEventPublishedWithKeyAndHeaders(t *testing.T) {
	w := newWorld(t, nil)
	if got := status(w.do("POST", "/v1/push", validPush, authed)); got != 200 {
		t.Fatalf("status %d", got)
	}
	recs := w.records(t, metricdoc.TopicRawEvents)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	if string(r.Key) != "id123456789|1707053358481-2071216" {
		t.Errorf("key %q", r.Key)
	}
	if string(r.Value) != validPush {
		t.Errorf("value changed: %s", r.Value)
	}
	if got := publish.Header(r, metricdoc.HeaderSource); got != metricdoc.SourcePush {
		t.Errorf("source header %q", got)
	}
	it := publish.Header(r, metricdoc.HeaderIngestTime)
	if it != "2026-11-26T10:00:00.123Z" {
		t.Errorf("ingest_time header %q", it)
	}
	if _, err := time.Parse(time.RFC3339, it); err != nil {
		t.Errorf("ingest_time not RFC 3339: %v", err)
	}
	if n := value(t, w.pub.Metrics().Published.WithLabelValues("push")); n != 1 {
		t.Errorf("published counter %v", n)
	}
}

func TestGetFormPostback(t *testing.T) {
	w := newWorld(t, nil)
	q := url.Values{
		"app_id": {"com.example.game"}, "appsflyer_id": {"1700-42"}, "event_name": {"af_purchase"},
		"event_time": {"2026-11-26 09:00:00.000"}, "platform": {"android"}, "event_revenue": {"4.99"},
		"event_revenue_currency": {"EUR"}, "campaign": {"a&b c"},
	}
	if got := status(w.do("GET", "/v1/push?"+q.Encode(), "", authed)); got != 200 {
		t.Fatalf("status %d", got)
	}
	recs := w.records(t, metricdoc.TopicRawEvents)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	var ev event.Event
	if err := event.Parse(recs[0].Value, &ev); err != nil {
		t.Fatalf("published GET form does not parse: %v (%s)", err, recs[0].Value)
	}
	if ev.Campaign != "a&b c" || ev.RevenueMicros != 4_990_000 || string(recs[0].Key) != "com.example.game|1700-42" {
		t.Fatalf("event %+v key %q", ev, recs[0].Key)
	}
}

func TestMalformedGoesToDLQWithReason(t *testing.T) {
	w := newWorld(t, nil)
	tests := []struct {
		name, method, target, body, reason string
	}{
		{"not json", "POST", "/v1/push", "{nope", string(event.ReasonBadJSON)},
		{"missing appsflyer_id", "POST", "/v1/push", `{"app_id":"a","event_name":"install","event_time":"2026-11-26 09:00:00","platform":"ios"}`, string(event.ReasonMissingField)},
		{"bad time", "POST", "/v1/push", strings.Replace(validPush, "2026-11-26 09:49:04.897", "yesterday", 1), string(event.ReasonBadTime)},
		{"empty GET form", "GET", "/v1/push", "", publish.ReasonBadForm},
		{"GET form missing fields", "GET", "/v1/push?app_id=a", "", string(event.ReasonMissingField)},
		{"POST not UTF-8", "POST", "/v1/push", strings.Replace(validPush, `"campaign":"`, "\"campaign\":\"\xff", 1), string(event.ReasonBadEncoding)},
		{"GET form not UTF-8", "GET", "/v1/push?app_id=id%FF1&appsflyer_id=b&event_name=install&event_time=2026-11-26+09:00:00&platform=ios", "", string(event.ReasonBadEncoding)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(w.do(tt.method, tt.target, tt.body, authed)); got != 400 {
				t.Fatalf("status %d, want 400", got)
			}
		})
	}
	recs := w.records(t, metricdoc.TopicDLQ)
	if len(recs) != len(tests) {
		t.Fatalf("%d DLQ records, want %d", len(recs), len(tests))
	}
	for i, r := range recs {
		if got := publish.Header(r, metricdoc.HeaderDLQReason); got != tests[i].reason {
			t.Errorf("%s: reason header %q, want %q", tests[i].name, got, tests[i].reason)
		}
		if got := publish.Header(r, metricdoc.HeaderDLQOrigin); got != metricdoc.SourcePush {
			t.Errorf("%s: origin header %q", tests[i].name, got)
		}
	}
	if string(recs[0].Value) != "{nope" {
		t.Errorf("DLQ value %q, want the body as sent", recs[0].Value)
	}
	if n := len(w.records(t, metricdoc.TopicRawEvents)); n != 0 {
		t.Fatalf("malformed input reached raw_events: %d records", n)
	}
}

func TestBodySizeLimit(t *testing.T) {
	w := newWorld(t, func(o *Options, _ *publish.Options) { o.MaxBodyBytes = 2048 })
	big := strings.Replace(validPush, `"platform"`, `"pad":"`+strings.Repeat("x", 2048)+`","platform"`, 1)
	if got := status(w.do("POST", "/v1/push", big, authed)); got != 413 {
		t.Fatalf("status %d, want 413", got)
	}
	if got := status(w.do("POST", "/v1/push", validPush, authed)); got != 200 {
		t.Fatalf("small body after a big one: %d", got)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	w := newWorld(t, nil)
	rec := w.do("PUT", "/v1/push", validPush, authed)
	if status(rec) != 405 || rec.Header().Get("Allow") != "GET, POST" {
		t.Fatalf("status %d allow %q", status(rec), rec.Header().Get("Allow"))
	}
}

func TestOptionsValidateNamesSetting(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no token", Options{}, "push.token"},
		{"bad path", Options{Token: "t", Path: "push"}, "push.path"},
		{"tiny body", Options{Token: "t", MaxBodyBytes: 10}, "push.max-body-bytes"},
		{"write timeout below produce", Options{Token: "t", ProduceTimeout: time.Minute}, "push.write-timeout"},
		{"header with space", Options{Token: "t", TokenHeader: "X Token"}, "push.token-header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.WithDefaults().Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
				t.Fatalf("err %v, want it to name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "t\"") {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
	if err := (Options{AllowNoAuth: true}).WithDefaults().Validate(); err != nil {
		t.Fatalf("allow-no-auth without token: %v", err)
	}
}
