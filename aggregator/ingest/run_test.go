package ingest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/pull"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/push"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

// TestRunPushAndPull runs the whole ingest service in-process, the way the
// all-in-one mode does: a push over HTTP and a pulled report from the
// simulator both land on raw_events; cancelling stops it cleanly.
func TestRunPushAndPull(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	world, err := simulate.NewWorld(3, simulate.WorldOptions{Apps: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := world.Traffic(simulate.TrafficOptions{Start: t0, Rate: 0.05, PriorUsers: 50})
	if err != nil {
		t.Fatal(err)
	}
	tr.Until(t0.Add(2 * time.Hour))
	vc := clock.NewVirtual(t0.Add(3 * time.Hour))
	sim, err := simulate.NewServer(world, simulate.ServerOptions{Tokens: []string{"pull-token"}, Now: vc.Now, QuotaPerDay: -1})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim)
	defer api.Close()
	app := world.AppIDs()[0]
	wantPull := len(world.Query(app, appsflyer.ReportInstalls, t0, t0.Add(time.Hour)))
	if wantPull == 0 {
		t.Fatal("no installs in the first hour")
	}

	k := embeddedtest.Kafka(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opts := Options{
		Kafka: publish.Options{Brokers: k.Brokers(), RawPartitions: 2},
		Push:  push.Options{Token: "push-token"},
		Pull: pull.Options{BaseURL: api.URL, Token: "pull-token", Apps: []string{app},
			Reports: []string{appsflyer.ReportInstalls}, Start: t0, Until: t0.Add(time.Hour),
			RetryBase: time.Millisecond, RetryCap: time.Millisecond},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, opts, Deps{Log: slog.New(slog.DiscardHandler), Registerer: reg, Gatherer: reg, PushListener: ln, OpsListener: opsLn, Now: vc.Now, Sleep: vc.Sleep})
	}()

	body := `{"app_id":"` + app + `","appsflyer_id":"push-1","event_name":"install","event_time":"2026-11-02 02:30:00.000","platform":"ios"}`
	var resp *http.Response
	for i := 0; i < 50; i++ { // the listener is open; wait for the handler
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/push", strings.NewReader(body))
		req.Header.Set("Authorization", "push-token")
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("push answered %d", resp.StatusCode)
	}
	// Readiness and metrics are on the internal listener, not the push port.
	for addr, want := range map[string]int{
		opsLn.Addr().String() + "/metrics": 200, opsLn.Addr().String() + "/readyz": 200,
		ln.Addr().String() + "/metrics": 404, ln.Addr().String() + "/readyz": 404,
	} {
		m, err := http.Get("http://" + addr)
		if err != nil {
			t.Fatal(err)
		}
		m.Body.Close()
		if m.StatusCode != want {
			t.Errorf("%s: %d, want %d", addr, m.StatusCode, want)
		}
	}

	bySource := map[string]int{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.ConsumeTopics(metricdoc.TopicRawEvents),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	for bySource[metricdoc.SourcePush] < 1 || bySource[metricdoc.SourcePull] < wantPull {
		fs := cl.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("records by source %v, want 1 push and %d pull", bySource, wantPull)
		}
		fs.EachRecord(func(r *kgo.Record) { bySource[publish.Header(r, metricdoc.HeaderSource)]++ })
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no brokers", Options{Push: push.Options{Token: "x"}}, "kafka.brokers"},
		{"no push token", Options{Kafka: publish.Options{Brokers: []string{"b:9092"}}}, "push.token"},
		{"nothing to do", Options{Kafka: publish.Options{Brokers: []string{"b:9092"}}, DisablePush: true}, "push.enabled"},
		{"pull without token", Options{Kafka: publish.Options{Brokers: []string{"b:9092"}}, DisablePush: true, Pull: pull.Options{Apps: []string{"id1"}}}, pull.FlagToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.WithDefaults().Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to name %s", err, tt.want)
			}
		})
	}
}

// TestPullOnlyServesMetrics: with the receiver off, the address still
// answers /healthz and /metrics, and pushes find no handler.
func TestPullOnlyServesMetrics(t *testing.T) {
	k := embeddedtest.Kafka(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Kafka:       publish.Options{Brokers: k.Brokers()},
			DisablePush: true,
			Pull: pull.Options{BaseURL: "http://127.0.0.1:1", Token: "t", Apps: []string{"id1"},
				Start: time.Now().UTC().Truncate(time.Hour)},
		}, Deps{Log: slog.New(slog.DiscardHandler), Registerer: reg, Gatherer: reg, PushListener: ln})
	}()
	base := "http://" + ln.Addr().String()
	for _, c := range []struct {
		path string
		want int
	}{{"/healthz", 200}, {"/metrics", 200}, {"/v1/push", 404}} {
		resp, err := http.Get(base + c.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.path, resp.StatusCode, c.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
