package main

import (
	"context"
	"fmt"
	"time"

	"github.com/campaignpulse/campaignpulse/bench/procstat"
)

// multiRun drains the backlog with cfg.multi aggregators in one consumer
// group (one database), as a scaled-out deployment runs them: the evidence
// behind docs/scaling.md that partitions spread over instances and the
// totals stay exact.
func (b *bench) multiRun(ctx context.Context) error {
	e, err := b.engine(ctx, "ours")
	if err != nil {
		return err
	}
	o := e.(*ours)
	run := fmt.Sprintf("ours-x%d-%d", b.cfg.multi, time.Now().Unix())
	f, err := b.follow(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	st := b.storeOf("ours")
	storeCPU0 := st.s.CPU()
	st.s.ResetPeak()
	var (
		procs    []*proc
		samplers []*procstat.Sampler
	)
	defer func() {
		for i, p := range procs {
			samplers[i].Stop()
			p.stop(30 * time.Second)
		}
	}()
	for i := 0; i < b.cfg.multi; i++ {
		// Same group and database for all: the run name is shared, the log
		// file is not.
		inst := *o
		inst.extra = append(append([]string(nil), o.extra...), "--kafka.instance-id", fmt.Sprintf("bench-%d", i))
		p, err := inst.startNamed(run, fmt.Sprintf("%s-%d", run, i))
		if err != nil {
			return err
		}
		procs = append(procs, p)
		samplers = append(samplers, procstat.Start(p.pid(), 100*time.Millisecond))
	}
	rctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
	defer cancel()
	var t0 time.Time
	for _, p := range procs {
		t, err := p.waitReady(rctx)
		if err != nil {
			return err
		}
		if t0.IsZero() || t.Before(t0) {
			t0 = t
		}
	}
	cpu0 := 0.0
	for _, s := range samplers {
		cpu0 += s.CPU()
	}
	n := int64(b.cfg.events)
	wctx, wcancel := context.WithTimeout(rctx, b.cfg.oursCap)
	defer wcancel()
	tEnd, err := f.WaitCounted(wctx, n)
	partial := false
	if err != nil && rctx.Err() == nil {
		partial, tEnd = true, time.Now()
		n, _ = f.Counted()
	} else if err != nil {
		return err
	}
	cpu1, rss := 0.0, 0.0
	for _, s := range samplers {
		cpu1 += s.CPU()
		rss += float64(s.PeakRSS()) / (1 << 20)
	}
	time.Sleep(300 * time.Millisecond)
	r := result{System: fmt.Sprintf("ours-x%d", b.cfg.multi), Kind: "multi", Events: n, Seconds: tEnd.Sub(t0).Seconds(), CPUSeconds: cpu1 - cpu0, PeakRSSMB: rss}
	r.fill()
	r.Mismatched, r.Partial = -1, partial
	if !partial {
		r.Mismatched = f.Mismatches(b.backlog.Truth)
	}
	r.StoreCPU = st.s.CPU() - storeCPU0
	r.StoreRSSMB = float64(st.s.PeakRSS()) / (1 << 20)
	b.results = append(b.results, r)
	fmt.Printf("bench: %-12s        %9.0f events/s  %5.2f cores  %8.0f events/s/core  %6.2f CPU-s/M  rss %6.0f MB (sum)  mismatched_windows=%d%s\n",
		r.System, r.EPS, r.CoresUsed, r.EPSPerCore, r.CPUPerMEvent, r.PeakRSSMB, r.Mismatched, r.storeNote()+r.partialNote())
	return nil
}
