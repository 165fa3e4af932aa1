package publish

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// DLQ reasons ingest adds to event.Reasons.
const (
	ReasonRaggedRow = "csv_ragged_row"
	ReasonBadForm   = "bad_push_form"
)

// Metrics counts what ingest published, shared by push and pull so each
// series is registered once.
type Metrics struct {
	Published *prometheus.CounterVec // source
	DLQ       *prometheus.CounterVec // source, reason
}

// NewMetrics registers ingest's publish counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		Published: f.NewCounterVec(prometheus.CounterOpts{
			Name: "campaignpulse_ingest_events_published_total",
			Help: "Events acknowledged by Kafka on raw_events, by source (push, pull).",
		}, []string{"source"}),
		DLQ: f.NewCounterVec(prometheus.CounterOpts{
			Name: "campaignpulse_ingest_dlq_events_total",
			Help: "Inputs acknowledged on raw_events_dlq, by source and rejection reason.",
		}, []string{"source", "reason"}),
	}
	for _, s := range []string{metricdoc.SourcePush, metricdoc.SourcePull} {
		m.Published.WithLabelValues(s)
		for _, r := range event.Reasons {
			m.DLQ.WithLabelValues(s, string(r))
		}
	}
	m.DLQ.WithLabelValues(metricdoc.SourcePull, ReasonRaggedRow)
	m.DLQ.WithLabelValues(metricdoc.SourcePush, ReasonBadForm)
	return m
}
