package push

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/internal/kafkatest"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
)

const testToken = "s3cr3t-push-token"

var fixedNow = time.Date(2026, 11, 26, 10, 0, 0, 123_000_000, time.UTC)

const validPush = `{"api_version":"2.0","app_id":"id123456789","appsflyer_id":"1707053358481-2071216",` +
	`"event_name":"install","event_time":"2026-11-26 09:49:04.897","media_source":"Facebook Ads",` +
	`"campaign":"BF_iOS_US","platform":"ios","event_revenue_currency":"USD"}`

// world is a receiver wired to a real producer on an in-process kfake cluster.
type world struct {
	kafka *embedded.Kafka
	pub   *publish.Producer
	recv  *Receiver
	reg   *prometheus.Registry
	popts publish.Options
}

func newWorld(t testing.TB, mut func(*Options, *publish.Options)) *world {
	t.Helper()
	k := embeddedtest.Kafka(t)
	log := slog.New(slog.DiscardHandler)
	popts := publish.Options{Brokers: k.Brokers(), RawPartitions: 3, DeliveryTimeout: 2 * time.Second}.WithDefaults()
	ropts := Options{Token: testToken, ProduceTimeout: 2 * time.Second}
	if mut != nil {
		mut(&ropts, &popts)
	}
	adm, err := publish.NewClient(popts, "admin", log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := publish.EnsureTopics(context.Background(), kadm.NewClient(adm), popts, log); err != nil {
		t.Fatal(err)
	}
	adm.Close()
	reg := prometheus.NewRegistry()
	pub, err := publish.NewProducer(popts, metricdoc.SourcePush, publish.NewMetrics(reg), log, reg, func() time.Time { return fixedNow })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = pub.Close(ctx)
	})
	recv, err := New(ropts, Deps{Publisher: pub, Log: log, Registerer: reg, Ready: pub.Ping})
	if err != nil {
		t.Fatal(err)
	}
	return &world{kafka: k, pub: pub, recv: recv, reg: reg, popts: popts}
}

// do sends one request through the handler and returns the status.
func (w *world) do(method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	w.recv.Handler().ServeHTTP(rec, req)
	return rec
}

var authed = map[string]string{"Authorization": testToken}

// records returns every committed record of topic.
func (w *world) records(t testing.TB, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := kafkatest.Committed(ctx, w.kafka.Brokers(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func status(rec *httptest.ResponseRecorder) int { return rec.Result().StatusCode }

var _ http.Handler = (*Receiver)(nil)

// value reads a counter or gauge without prometheus/testutil (whose diff
// dependency is not in go.mod).
func value(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
