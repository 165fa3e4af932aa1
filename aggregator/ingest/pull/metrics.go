package pull

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	requests   *prometheus.CounterVec // report, status_class
	retries    *prometheus.CounterVec // report
	rows       *prometheus.CounterVec // report
	windows    *prometheus.CounterVec // report
	splits     *prometheus.CounterVec // report
	quotaWaits *prometheus.CounterVec // report
	// resumed and resumeMismatches count retries of windows committed in
	// part.
	resumed          *prometheus.CounterVec // report
	resumeMismatches *prometheus.CounterVec // report
	cursor           *prometheus.GaugeVec   // app_id, report
	stopped          *prometheus.GaugeVec   // app_id
	// download and transaction time the two phases of a window.
	download    *prometheus.HistogramVec // report
	transaction *prometheus.HistogramVec // report
}

func newMetrics(reg prometheus.Registerer, reports []string) *metrics {
	f := promauto.With(reg)
	byReport := func(name, help string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Name: "campaignpulse_ingest_pull_" + name, Help: help}, []string{"report"})
	}
	m := &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "campaignpulse_ingest_pull_requests_total",
			Help: "Pull API report requests by report and final status class (2xx, 4xx, 5xx, error for no answer).",
		}, []string{"report", "status_class"}),
		retries:    byReport("retries_total", "Report requests retried after a 5xx, timeout or dropped connection."),
		rows:       byReport("rows_total", "CSV rows read from committed report windows."),
		windows:    byReport("windows_total", "Windows committed to Kafka (all their rows, then the cursor with the last transaction)."),
		splits:     byReport("window_splits_total", "Windows split in two because they reached maximum_rows."),
		quotaWaits: byReport("quota_waits_total", "Daily quota answers, each followed by a wait until 00:00 UTC."),
		resumed: byReport("resumed_records_total",
			"Records of a window not produced again on a retry (or after a restart) because an earlier attempt committed them and the report's first records hash the same."),
		resumeMismatches: byReport("resume_mismatches_total",
			"Retries of a window committed in part whose new download differs from the committed part: produced whole, the copies removed downstream by event identity."),
		cursor: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "campaignpulse_ingest_pull_cursor_timestamp_seconds",
			Help: "Event time up to which each app and report has been pulled and committed (unix seconds).",
		}, []string{"app_id", "report"}),
		stopped: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "campaignpulse_ingest_pull_app_stopped",
			Help: "1 when pulling an app stopped on a permanent error (invalid token, unknown app).",
		}, []string{"app_id"}),
	}
	m.download = f.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "campaignpulse_ingest_pull_download_seconds",
		Help:    "Time to request, download and spool one report window (no transaction is open meanwhile).",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
	}, []string{"report"})
	m.transaction = f.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "campaignpulse_ingest_pull_transaction_seconds",
		Help:    "Time one pull transaction is open (produce of at most --pull.transaction-records records of a downloaded window, its cursor or partial record, commit): read_committed consumers of raw_events wait this long.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"report"})
	for _, r := range reports {
		for _, c := range []string{"2xx", "4xx", "5xx", "error"} {
			m.requests.WithLabelValues(r, c)
		}
		m.retries.WithLabelValues(r)
		m.rows.WithLabelValues(r)
		m.windows.WithLabelValues(r)
		m.splits.WithLabelValues(r)
		m.quotaWaits.WithLabelValues(r)
		m.resumed.WithLabelValues(r)
		m.resumeMismatches.WithLabelValues(r)
		m.download.WithLabelValues(r)
		m.transaction.WithLabelValues(r)
	}
	return m
}

func statusClass(code int) string {
	switch code / 100 {
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return "error"
}
