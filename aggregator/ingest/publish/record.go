package publish

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// IngestTimeLayout is the layout of the ingest_time header: RFC 3339 with
// milliseconds, UTC.
const IngestTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Key is the raw_events key of ev: app_id|appsflyer_id, so every copy of an
// event (push, pull, backfill) lands on the same partition.
func Key(ev *event.Event) []byte {
	k := make([]byte, 0, len(ev.AppID)+1+len(ev.AppsFlyerID))
	k = append(k, ev.AppID...)
	k = append(k, '|')
	return append(k, ev.AppsFlyerID...)
}

// RawRecord is the raw_events record (topic: Options.Topics.Raw) of a validated event. value is kept as
// the source sent it (it is the raw topic).
func RawRecord(topic, source string, ev *event.Event, value []byte, now time.Time) *kgo.Record {
	return KeyedRawRecord(topic, source, Key(ev), value, now)
}

// KeyedRawRecord is RawRecord for a value validated earlier, whose Key was
// kept (the pull poller validates while downloading and produces later).
func KeyedRawRecord(topic, source string, key, value []byte, now time.Time) *kgo.Record {
	return &kgo.Record{
		Topic: topic,
		Key:   key,
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: metricdoc.HeaderSource, Value: []byte(source)},
			{Key: metricdoc.HeaderIngestTime, Value: now.UTC().AppendFormat(nil, IngestTimeLayout)},
		},
	}
}

// DLQRecord is the raw_events_dlq record (topic: Options.Topics.DLQ) of an input ingest rejected. origin
// says where it came from ("push", "pull/<app>/<report>"), reason why.
func DLQRecord(topic, source, origin, reason string, value []byte, now time.Time) *kgo.Record {
	return &kgo.Record{
		Topic: topic,
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: metricdoc.HeaderSource, Value: []byte(source)},
			{Key: metricdoc.HeaderIngestTime, Value: now.UTC().AppendFormat(nil, IngestTimeLayout)},
			{Key: metricdoc.HeaderDLQReason, Value: []byte(reason)},
			{Key: metricdoc.HeaderDLQOrigin, Value: []byte(origin)},
		},
	}
}

// Header returns the value of header key in r, or "".
func Header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
