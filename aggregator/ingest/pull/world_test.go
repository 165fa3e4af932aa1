package pull

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/internal/kafkatest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/simulate"
)

const apiToken = "eyJhbGciOiJIUzI1NiJ9.pull-test-token"

// t0 is the start of the simulated traffic; the tests pull [t0, t0+span).
var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// env is a simulated AppsFlyer (Pull API over httptest) and a kfake cluster.
type env struct {
	world   *simulate.World
	sim     *simulate.Server
	http    *httptest.Server
	kafka   *embedded.Kafka // nil when the env runs on brokers given in envConfig
	brokers []string
	kopts   publish.Options
	clock   *clock.Virtual
	span    time.Duration
}

type envConfig struct {
	apps   int
	rate   float64 // events per simulated second
	span   time.Duration
	server simulate.ServerOptions
	// wrap lets a test put a handler in front of the simulator.
	wrap func(http.Handler) http.Handler
	// brokers, when set, are used instead of an in-process kfake cluster.
	brokers []string
	// downloadHost serves the one-time URLs from a second server, as
	// rawdata.appsflyer.com does for hq1.
	downloadHost bool
}

func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	if cfg.apps == 0 {
		cfg.apps = 2
	}
	if cfg.rate == 0 {
		cfg.rate = 0.2
	}
	if cfg.span == 0 {
		cfg.span = 4 * time.Hour
	}
	w, err := simulate.NewWorld(7, simulate.WorldOptions{Apps: cfg.apps, Campaigns: 3})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := w.Traffic(simulate.TrafficOptions{Start: t0, Rate: cfg.rate, PriorUsers: 200, Users: 2000})
	if err != nil {
		t.Fatal(err)
	}
	tr.Until(t0.Add(cfg.span + time.Hour))
	vc := clock.NewVirtual(t0.Add(cfg.span + time.Hour))
	so := cfg.server
	so.Tokens = []string{apiToken}
	so.Now = vc.Now
	if so.QuotaPerDay == 0 {
		so.QuotaPerDay = -1
	}
	var dl *httptest.Server
	if cfg.downloadHost {
		dl = httptest.NewUnstartedServer(nil)
		so.DownloadBaseURL = "http://" + dl.Listener.Addr().String()
	}
	sim, err := simulate.NewServer(w, so)
	if err != nil {
		t.Fatal(err)
	}
	if dl != nil {
		dl.Config.Handler = sim
		dl.Start()
		t.Cleanup(dl.Close)
	}
	var h http.Handler = sim
	if cfg.wrap != nil {
		h = cfg.wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)

	var k *embedded.Kafka
	brokers := cfg.brokers
	if brokers == nil {
		k = embeddedtest.Kafka(t)
		brokers = k.Brokers()
	}
	kopts := publish.Options{Brokers: brokers, RawPartitions: 3}.WithDefaults()
	adm, err := publish.NewClient(kopts, "admin", slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if err := publish.EnsureTopics(context.Background(), kadm.NewClient(adm), kopts, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return &env{world: w, sim: sim, http: hs, kafka: k, brokers: brokers, kopts: kopts, clock: vc, span: cfg.span}
}

// options are poller options pulling the env's span in one-hour windows.
func (e *env) options(apps ...string) Options {
	if len(apps) == 0 {
		apps = e.world.AppIDs()
	}
	return Options{
		BaseURL: e.http.URL, Token: apiToken, Apps: apps,
		Window: time.Hour, CatchUpWindow: time.Hour, Delay: 10 * time.Minute,
		Start: t0, Until: t0.Add(e.span),
		RetryBase: time.Millisecond, RetryCap: 5 * time.Millisecond, RetryAttempts: 4,
		RequestTimeout: 2 * time.Second, TransactionTimeout: 10 * time.Second,
	}
}

type harness struct {
	*Poller
	reg *prometheus.Registry
}

func (e *env) poller(t *testing.T, o Options) *harness {
	t.Helper()
	reg := prometheus.NewRegistry()
	p, err := New(o, Deps{Kafka: e.kopts, Metrics: publish.NewMetrics(reg), Registerer: reg,
		Log: slog.New(slog.DiscardHandler), Now: e.clock.Now, Sleep: e.clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &harness{Poller: p, reg: reg}
}

// windowKey is one app and hour of event time.
type windowKey struct {
	app  string
	hour time.Time
}

// expected counts the simulator's events per app and hour for the reports.
func (e *env) expected(apps, reports []string) map[windowKey]int {
	out := map[windowKey]int{}
	for _, a := range apps {
		for _, r := range reports {
			for h := t0; h.Before(t0.Add(e.span)); h = h.Add(time.Hour) {
				if n := len(e.world.Query(a, r, h, h.Add(time.Hour))); n > 0 {
					out[windowKey{a, h}] += n
				}
			}
		}
	}
	return out
}

// committed reads raw_events read_committed and counts events per app and
// hour, checking key and headers of each.
func (e *env) committed(t *testing.T) map[windowKey]int {
	t.Helper()
	out := map[windowKey]int{}
	for _, r := range e.read(t, metricdoc.TopicRawEvents) {
		var ev event.Event
		if err := event.Parse(r.Value, &ev); err != nil {
			t.Fatalf("raw_events holds an invalid event: %v", err)
		}
		if string(r.Key) != ev.AppID+"|"+ev.AppsFlyerID {
			t.Fatalf("key %q for %s|%s", r.Key, ev.AppID, ev.AppsFlyerID)
		}
		if s := publish.Header(r, metricdoc.HeaderSource); s != metricdoc.SourcePull {
			t.Fatalf("source header %q", s)
		}
		out[windowKey{ev.AppID, ev.Time.Truncate(time.Hour)}]++
	}
	return out
}

// read returns every committed record of topic.
func (e *env) read(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := kafkatest.Committed(ctx, e.brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func sameCounts(t *testing.T, got, want map[windowKey]int) {
	t.Helper()
	total := 0
	for k, n := range want {
		total += n
		if got[k] != n {
			t.Errorf("app %s hour %s: %d events on raw_events, simulator has %d", k.app, k.hour.Format("15:04"), got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("app %s hour %s: %d unexpected events", k.app, k.hour.Format("15:04"), n)
		}
	}
	if total == 0 {
		t.Fatal("the simulator produced no events; the test proves nothing")
	}
	t.Logf("%d events in %d (app, hour) windows match the simulator", total, len(want))
}

// metric returns the value of the series name with the given labels.
func (h *harness) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matches(m, labels) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func matches(m *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := labels[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}
