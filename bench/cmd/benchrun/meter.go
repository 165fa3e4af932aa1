package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/campaignpulse/campaignpulse/bench/procstat"
)

// meter takes, over one measured interval, the CPU of everything that
// shares the machine: the engine's process trees, the broker, the store,
// the harness itself (load generator and follower) and the machine as a
// whole, so that a run on a shared machine says where the cores went and
// which of them was the limit.
type meter struct {
	engines       []*procstat.Sampler
	broker, store *procstat.Sampler

	engine0, broker0, store0, self0, machine0 float64
}

// usage is what a meter read: CPU-seconds of each part.
type usage struct {
	Engine, Broker, Store, Harness, Machine float64
}

// startMeter starts measuring the engines' trees (the store's when st is
// set; the broker's when the bench knows its process).
func (b *bench) startMeter(st *storeProc, engines ...*procstat.Sampler) *meter {
	m := &meter{engines: engines, broker: b.broker}
	if st != nil {
		m.store = st.s
	}
	m.engine0, m.broker0, m.store0, m.self0, m.machine0 = m.now()
	return m
}

func (m *meter) now() (engine, broker, store, self, machine float64) {
	for _, s := range m.engines {
		engine += s.CPU()
	}
	if m.broker != nil {
		broker = m.broker.CPU()
	}
	if m.store != nil {
		store = m.store.CPU()
	}
	self = procstat.ProcessCPU(os.Getpid())
	machine, _ = procstat.MachineBusy()
	return
}

// read returns the CPU used since the meter started.
func (m *meter) read() usage {
	e, br, st, self, mach := m.now()
	return usage{Engine: e - m.engine0, Broker: br - m.broker0, Store: st - m.store0, Harness: self - m.self0, Machine: mach - m.machine0}
}

// set copies u into r's CPU fields.
func (u usage) set(r *result) {
	r.CPUSeconds = u.Engine
	r.StoreCPU = u.Store
	r.BrokerCPU = u.Broker
	r.HarnessCPU = u.Harness
	r.MachineCPU = u.Machine
}

// cpuNote says where the machine's cores went during r, in cores (CPU-s
// per wall second): what is left after the measured processes is other
// work on the shared machine.
func (r *result) cpuNote(cores int) string {
	if r.Seconds <= 0 || r.MachineCPU <= 0 {
		return ""
	}
	c := func(v float64) float64 { return v / r.Seconds }
	other := r.MachineCPU - r.CPUSeconds - r.BrokerCPU - r.StoreCPU - r.HarnessCPU
	s := fmt.Sprintf("bench: %-12s   cores: engine %.2f  broker %.2f", "", c(r.CPUSeconds), c(r.BrokerCPU))
	if r.StoreCPU > 0 {
		s += fmt.Sprintf("  store %.2f", c(r.StoreCPU))
	}
	return s + fmt.Sprintf("  harness %.2f  other %.2f  = machine %.2f of %d", c(r.HarnessCPU), c(max(other, 0)), c(r.MachineCPU), cores)
}

// metricSum reads one family from an aggregator's /metrics and returns the
// sum of its series (counters and gauges), optionally only those with a
// label of the given value (label "" takes all).
func metricSum(port int, name, label, value string) (float64, error) {
	if port == 0 {
		return 0, fmt.Errorf("no metrics address")
	}
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return 0, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("scrape: %w", err)
	}
	f := fams[name]
	if f == nil {
		return 0, fmt.Errorf("scrape: no series %s", name)
	}
	sum := 0.0
	for _, m := range f.GetMetric() {
		if label != "" && !hasLabel(m.GetLabel(), label, value) {
			continue
		}
		sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	return sum, nil
}

func hasLabel(ls []*dto.LabelPair, name, value string) bool {
	for _, l := range ls {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// Series of the aggregator the bench reads: windows in memory at the end of
// a throughput run (memory per open window); events counted and consumer
// lag at the end of a freshness run (did it consume everything, or did the
// updates lag behind).
const (
	seriesWindowsOpen = "campaignpulse_aggregate_windows_open"
	seriesEvents      = "campaignpulse_aggregate_events_total"
	seriesLag         = "campaignpulse_aggregate_consumer_lag_records"
)
