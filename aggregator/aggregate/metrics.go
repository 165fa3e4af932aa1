package aggregate

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// metrics are the aggregator's Prometheus series (see docs/metrics.md).
type metrics struct {
	events       [numOutcomes]prometheus.Counter
	deadLettered map[event.Reason]prometheus.Counter
	partEvents   *prometheus.GaugeVec
	windowsOpen  prometheus.Gauge
	dedupSize    prometheus.Gauge
	flush        prometheus.Histogram
	mongoErrors  prometheus.Counter
	kafkaErrors  *prometheus.CounterVec
	finalized    *prometheus.CounterVec
	watermark    *prometheus.GaugeVec
	delay        *prometheus.GaugeVec
	lag          *prometheus.GaugeVec
	paused       prometheus.Gauge
	corrections  prometheus.Counter
	conflicts    *prometheus.CounterVec

	hotIdentities  prometheus.Gauge
	stateBytes     prometheus.Gauge
	restoreBytes   *prometheus.CounterVec
	restoreSeconds prometheus.Histogram
	gaps           *prometheus.CounterVec
	lostRecords    prometheus.Counter
	// visibleAge is the freshness probe; visibleMs the newest ingest time
	// already observed per source, so a flush that made nothing newer
	// visible observes nothing.
	visibleAge *prometheus.HistogramVec
	visibleMs  map[string]int64
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	events := f.NewCounterVec(prometheus.CounterOpts{
		Name: "campaignpulse_aggregate_events_total",
		Help: "raw_events records by outcome (counted, duplicate, too_late, dead_lettered). Exact for the partitions this process owns: it starts from the checkpointed counts.",
	}, []string{"outcome"})
	dl := f.NewCounterVec(prometheus.CounterOpts{
		Name: "campaignpulse_aggregate_dead_lettered_total",
		Help: "Records sent to raw_events_dlq by this process, by reason.",
	}, []string{"reason"})
	m := &metrics{
		deadLettered: make(map[event.Reason]prometheus.Counter),
		partEvents: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "campaignpulse_aggregate_partition_events",
			Help: "Records of an owned partition before its checkpoint, by outcome; sum over instances for the group total.",
		}, []string{"partition", "outcome"}),
		windowsOpen: f.NewGauge(prometheus.GaugeOpts{Name: "campaignpulse_aggregate_windows_open", Help: "Windows kept in memory (not yet finalized)."}),
		dedupSize:   f.NewGauge(prometheus.GaugeOpts{Name: "campaignpulse_aggregate_dedup_identities", Help: "Event identities remembered for de-duplication."}),
		flush: f.NewHistogram(prometheus.HistogramOpts{
			Name: "campaignpulse_aggregate_flush_duration_seconds", Help: "Time of one store round: changed windows, finals and checkpoints written to MongoDB, off the consumption path.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		mongoErrors: f.NewCounter(prometheus.CounterOpts{Name: "campaignpulse_aggregate_mongo_write_errors_total", Help: "Failed MongoDB flushes (retried with backoff)."}),
		kafkaErrors: f.NewCounterVec(prometheus.CounterOpts{Name: "campaignpulse_aggregate_kafka_errors_total", Help: "Kafka errors by operation (fetch, dlq, publish, commit, changelog)."}, []string{"op"}),
		finalized:   f.NewCounterVec(prometheus.CounterOpts{Name: "campaignpulse_aggregate_windows_finalized_total", Help: "Windows appended to the time-series collections."}, []string{"granularity"}),
		watermark:   f.NewGaugeVec(prometheus.GaugeOpts{Name: "campaignpulse_aggregate_watermark_seconds", Help: "Partition watermark (newest event time minus allowed lateness), unix seconds."}, []string{"partition"}),
		delay:       f.NewGaugeVec(prometheus.GaugeOpts{Name: "campaignpulse_aggregate_watermark_delay_seconds", Help: "Wall clock minus the partition watermark."}, []string{"partition"}),
		lag:         f.NewGaugeVec(prometheus.GaugeOpts{Name: "campaignpulse_aggregate_consumer_lag_records", Help: "Fetch high watermark minus the next offset to process."}, []string{"partition"}),
		conflicts: f.NewCounterVec(prometheus.CounterOpts{
			Name: "campaignpulse_aggregate_ownership_conflicts_total",
			Help: "Writes refused because another consumer of the same partition got further (zombie or replay), by what was refused (live_window, checkpoint).",
		}, []string{"kind"}),
		corrections: f.NewCounter(prometheus.CounterOpts{
			Name: "campaignpulse_aggregate_late_corrections_total",
			Help: "Counted events older than the watermark (allowed lateness exceeded, correction horizon not): corrections of windows already final in aggregated_metrics.",
		}),
		paused: f.NewGauge(prometheus.GaugeOpts{Name: "campaignpulse_aggregate_paused", Help: "1 while consumption is paused because MongoDB writes fail."}),
		hotIdentities: f.NewGauge(prometheus.GaugeOpts{
			Name: "campaignpulse_aggregate_dedup_hot_identities",
			Help: "De-duplication identities held in memory (bounded by --aggregate.hot-identities); the rest are in the local store.",
		}),
		stateBytes: f.NewGauge(prometheus.GaugeOpts{Name: "campaignpulse_aggregate_dedup_store_bytes", Help: "Disk used by the local de-duplication store."}),
		restoreBytes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "campaignpulse_aggregate_restore_read_bytes_total",
			Help: "Bytes read to rebuild de-duplication state on assignment, by source (changelog, raw_events replay).",
		}, []string{"source"}),
		restoreSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name: "campaignpulse_aggregate_restore_duration_seconds", Help: "Time to restore one partition's de-duplication set from the changelog.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		gaps: f.NewCounterVec(prometheus.CounterOpts{
			Name: "campaignpulse_aggregate_state_gaps_total",
			Help: "Gaps found on assignment or while consuming: records a partition's recovery needed that the topic's retention had deleted, by topic (raw_events: records never processed; dedup_changelog: identities not restorable). Alert on any increase.",
		}, []string{"topic"}),
		lostRecords: f.NewCounter(prometheus.CounterOpts{
			Name: "campaignpulse_aggregate_lost_records_total",
			Help: "raw_events records deleted by retention before they were processed (counted in the checkpoint's lost field, never silently skipped).",
		}),
		visibleAge: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "campaignpulse_aggregate_visible_age_seconds",
			Help:    "Per store round and source: age of the newest event the round made visible in MongoDB, from ingest accepting it (raw_events record time) to its live document written.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300, 900},
		}, []string{"source"}),
		visibleMs: map[string]int64{},
	}
	for o := outcome(0); o < numOutcomes; o++ {
		m.events[o] = events.WithLabelValues(o.String())
	}
	for _, r := range event.Reasons {
		m.deadLettered[r] = dl.WithLabelValues(string(r))
	}
	for _, src := range []string{"changelog", "raw_events"} {
		m.restoreBytes.WithLabelValues(src)
	}
	for _, src := range []string{metricdoc.SourcePush, metricdoc.SourcePull} {
		m.visibleAge.WithLabelValues(src)
	}
	for _, op := range []string{"fetch", "dlq", "publish", "commit", "changelog"} {
		m.kafkaErrors.WithLabelValues(op)
	}
	return m
}

func (m *metrics) forget(p int32) {
	l := strconv.Itoa(int(p))
	for o := outcome(0); o < numOutcomes; o++ {
		m.partEvents.DeleteLabelValues(l, o.String())
	}
	m.watermark.DeleteLabelValues(l)
	m.delay.DeleteLabelValues(l)
	m.lag.DeleteLabelValues(l)
}

// observeVisible records, per source, the age at nowMs of the newest event
// a store round made visible (newest: its ingest time per source).
func (m *metrics) observeVisible(newest map[string]int64, nowMs int64) {
	for src, ms := range newest {
		if ms <= m.visibleMs[src] {
			continue
		}
		m.visibleMs[src] = ms
		m.visibleAge.WithLabelValues(src).Observe(float64(max(nowMs-ms, 0)) / 1000)
	}
}
