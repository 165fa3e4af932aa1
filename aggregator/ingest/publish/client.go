package publish

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
	"github.com/twmb/franz-go/plugin/kslog"
)

// ClientOpts returns the franz-go options shared by ingest's clients: seeds,
// client id, acks=all idempotent production, the delivery timeout, logs via
// kslog and client metrics via kprom on reg. role ("push", "pull", "admin")
// tells the clients' metrics apart on one registry.
func ClientOpts(o Options, role string, log *slog.Logger, reg prometheus.Registerer) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(o.Brokers...),
		kgo.ClientID(o.ClientID + "-" + role),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(o.DeliveryTimeout),
		kgo.ProducerLinger(o.Linger),
		kgo.WithLogger(quietLogger{kslog.New(log.With("kafka_client", role))}),
	}
	if reg != nil {
		m := kprom.NewMetrics("campaignpulse_ingest_kafka",
			kprom.Registerer(reg),
			kprom.WithStaticLabel(prometheus.Labels{"role": role}))
		opts = append(opts, kgo.WithHooks(m))
	}
	return opts
}

// NewClient builds a kgo client with ClientOpts plus extra.
func NewClient(o Options, role string, log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append(ClientOpts(o, role, log, reg), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client %s: %w", role, err)
	}
	return cl, nil
}

// quietLogger drops franz-go's info logs (one per transaction, flush and
// metadata refresh: per-window noise for the poller) unless the process
// logs at debug; warnings and errors always pass.
type quietLogger struct{ *kslog.Logger }

func (l quietLogger) Level() kgo.LogLevel {
	if lv := l.Logger.Level(); lv != kgo.LogLevelDebug && lv > kgo.LogLevelWarn {
		return kgo.LogLevelWarn
	}
	return l.Logger.Level()
}
