package push

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "campaignpulse_ingest_push_requests_total",
			Help: "Push API postbacks answered, by HTTP status code.",
		}, []string{"code"}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "campaignpulse_ingest_push_request_duration_seconds",
			Help:    "Time from reading a postback to its answer, including the Kafka ack.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	for _, c := range []int{200, 400, 401, 405, 408, 413, 503} {
		m.requests.WithLabelValues(strconv.Itoa(c))
	}
	return m
}
