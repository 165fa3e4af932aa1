package publish

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
)

func TestEnsureTopicsIdempotentWithConfigs(t *testing.T) {
	k, err := embedded.StartKafka("")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
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
	wantParts := map[string]int{metricdoc.TopicRawEvents: 6, metricdoc.TopicDLQ: 1, metricdoc.TopicAggregated: 6, DefaultCursorTopic: 1}
	for topic, n := range wantParts {
		if got := len(md[topic].Partitions); got != n {
			t.Errorf("%s: %d partitions, want %d", topic, got, n)
		}
	}
	wantCfg := map[string]map[string]string{
		metricdoc.TopicRawEvents:  {"retention.ms": "86400000", "cleanup.policy": "delete"},
		metricdoc.TopicDLQ:        {"retention.ms": "604800000"},
		metricdoc.TopicAggregated: {"retention.ms": "86400000"},
		DefaultCursorTopic:        {"cleanup.policy": "compact"},
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, metricdoc.TopicRawEvents, metricdoc.TopicDLQ, metricdoc.TopicAggregated, DefaultCursorTopic)
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
	r := RawRecord(metricdoc.SourcePull, ev, []byte("{}"), now)
	if r.Topic != metricdoc.TopicRawEvents || string(r.Key) != "com.example|17-42" {
		t.Fatalf("topic %s key %s", r.Topic, r.Key)
	}
	if Header(r, metricdoc.HeaderSource) != "pull" || Header(r, metricdoc.HeaderIngestTime) != "2026-11-26T09:00:00.005Z" {
		t.Fatalf("headers %v", r.Headers)
	}
	d := DLQRecord(metricdoc.SourcePush, "push", "bad_json", []byte("{"), now)
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
