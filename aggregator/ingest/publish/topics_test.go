package publish

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
)

func TestEnsureTopicsIdempotentWithConfigs(t *testing.T) {
	k := embeddedtest.Kafka(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	o := Options{Brokers: k.Brokers()}.WithDefaults()
	cl, err := NewClient(o, "admin", log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	if err := EnsureTopics(ctx, adm, o, log); err != nil {
		t.Fatal(err)
	}
	// Again, now wanting another partition count: fine, and logged.
	o2 := o
	o2.RawPartitions = 12
	if err := EnsureTopics(ctx, adm, o2, log); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(logs.String(), "different partition count") || !strings.Contains(logs.String(), "wanted_partitions=12") {
		t.Fatalf("mismatch not logged:\n%s", logs.String())
	}

	md, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantParts := map[string]int{metricdoc.TopicRawEvents: 6, metricdoc.TopicDLQ: 1, metricdoc.TopicAggregated: 6, "ingest_cursors": 1}
	for topic, n := range wantParts {
		if got := len(md[topic].Partitions); got != n {
			t.Errorf("%s: %d partitions, want %d", topic, got, n)
		}
	}
	wantCfg := map[string]map[string]string{
		metricdoc.TopicRawEvents:  {"retention.ms": "86400000", "cleanup.policy": "delete"},
		metricdoc.TopicDLQ:        {"retention.ms": "604800000"},
		metricdoc.TopicAggregated: {"retention.ms": "86400000"},
		"ingest_cursors":          {"cleanup.policy": "compact"},
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, metricdoc.TopicRawEvents, metricdoc.TopicDLQ, metricdoc.TopicAggregated, "ingest_cursors")
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if want, ok := wantCfg[rc.Name][c.Key]; ok && c.MaybeValue() != want {
				t.Errorf("%s %s = %q, want %q", rc.Name, c.Key, c.MaybeValue(), want)
			}
			delete(wantCfg[rc.Name], c.Key)
		}
	}
	for topic, left := range wantCfg {
		if len(left) > 0 {
			t.Errorf("%s: configs not found: %v", topic, left)
		}
	}
}

func TestRecordLayout(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 5_000_000, time.FixedZone("x", 3600))
	ev := &event.Event{AppID: "com.example", AppsFlyerID: "17-42"}
	r := RawRecord(metricdoc.TopicRawEvents, metricdoc.SourcePull, ev, []byte("{}"), now)
	if r.Topic != metricdoc.TopicRawEvents || string(r.Key) != "com.example|17-42" {
		t.Fatalf("topic %s key %s", r.Topic, r.Key)
	}
	if Header(r, metricdoc.HeaderSource) != "pull" || Header(r, metricdoc.HeaderIngestTime) != "2026-11-26T09:00:00.005Z" {
		t.Fatalf("headers %v", r.Headers)
	}
	d := DLQRecord(metricdoc.TopicDLQ, metricdoc.SourcePush, "push", "bad_json", []byte("{"), now)
	if d.Topic != metricdoc.TopicDLQ || d.Key != nil || Header(d, metricdoc.HeaderDLQReason) != "bad_json" || Header(d, metricdoc.HeaderDLQOrigin) != "push" {
		t.Fatalf("dlq record %+v", d)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		mut  func(*Options)
		want string
	}{
		{"no brokers", func(o *Options) { o.Brokers = nil }, "kafka.brokers"},
		{"blank broker", func(o *Options) { o.Brokers = []string{" "} }, "kafka.brokers"},
		{"zero replication", func(o *Options) { o.ReplicationFactor = -2 }, "kafka.replication-factor"},
		{"tiny retention", func(o *Options) { o.RawRetention = time.Second }, "kafka.raw-retention"},
		{"short delivery timeout", func(o *Options) { o.DeliveryTimeout = 10 * time.Millisecond }, "kafka.delivery-timeout"},
		{"negative partitions", func(o *Options) { o.RawPartitions = -1 }, "kafka.raw-partitions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Brokers: []string{"localhost:9092"}}.WithDefaults()
			tt.mut(&o)
			if err := o.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to name %s", err, tt.want)
			}
		})
	}
}

// TestTopicNamesHonoured: renamed topics (--kafka.raw-topic and friends)
// are the ones created and written, not the default names.
func TestTopicNamesHonoured(t *testing.T) {
	k := embeddedtest.Kafka(t)
	log := slog.New(slog.DiscardHandler)
	o := Options{Brokers: k.Brokers(), Topics: metricdoc.Topics{Raw: "r2", DLQ: "d2", Aggregated: "a2"}}.WithDefaults()
	cl, err := NewClient(o, "admin", log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := EnsureTopics(t.Context(), adm, o, log); err != nil {
		t.Fatal(err)
	}
	md, err := adm.ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"r2", "d2", "a2"} {
		if !md.Has(name) {
			t.Errorf("topic %s not created", name)
		}
	}
	for _, name := range []string{metricdoc.TopicRawEvents, metricdoc.TopicDLQ, metricdoc.TopicAggregated} {
		if md.Has(name) {
			t.Errorf("default topic %s created although renamed", name)
		}
	}
	p, err := NewProducer(o, metricdoc.SourcePush, NewMetrics(prometheus.NewRegistry()), log, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Close(context.Background()) }()
	ev := &event.Event{AppID: "com.example", AppsFlyerID: "1-2"}
	if err := p.Publish(t.Context(), ev, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := p.DeadLetter(t.Context(), "push", "bad_json", []byte("{")); err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(t.Context(), "r2", "d2")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"r2", "d2"} {
		var n int64
		ends.Each(func(o kadm.ListedOffset) {
			if o.Topic == name {
				n += o.Offset
			}
		})
		if n != 1 {
			t.Errorf("%s holds %d records, want 1", name, n)
		}
	}
}
