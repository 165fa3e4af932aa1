package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/bench/procstat"
)

// multiRun drains the backlog with cfg.multi aggregators in one consumer
// group (one database), as a scaled-out deployment runs them: the evidence
// behind docs/scaling.md that partitions spread over instances, that the
// CPU per event does not grow with them and that the totals stay exact.
// Like the single-instance runs it has two finish lines: aggregated_metrics
// complete, then the store's checkpoints complete (ours-xN+store).
func (b *bench) multiRun(ctx context.Context) error {
	e, err := b.engine(ctx, "ours")
	if err != nil {
		return err
	}
	o := e.(*ours)
	system := fmt.Sprintf("ours-x%d", b.cfg.multi)
	run := fmt.Sprintf("%s-%d", system, time.Now().Unix())
	f, err := b.follow(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	st := b.storeOf("ours")
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
		if i == 0 {
			// The first instance creates the database's collections and
			// indexes and the changelog topic; the others start once it
			// has (FerretDB fails concurrent creations in one new database
			// and then stalls every later write). They still join the
			// group within its initial rebalance delay.
			if err := waitLog(ctx, p, "state topics checked", time.Minute); err != nil {
				return err
			}
		}
	}
	rctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
	defer cancel()
	// The clock and the meter start when the first instance consumes. The
	// instances start together and the broker delays a new group's first
	// rebalance (group.initial.rebalance.delay.ms, Kafka's default 3 s), so
	// normally all of them are in the first generation; one that joins
	// later takes its partitions in a rebalance while the others work, as in
	// a scale-out.
	type ready struct {
		at  time.Time
		err error
	}
	readies := make(chan ready, len(procs))
	for _, p := range procs {
		go func() {
			t, err := p.waitReady(rctx)
			readies <- ready{t, err}
		}()
	}
	first := <-readies
	if first.err != nil {
		return first.err
	}
	t0 := first.at
	m := b.startMeter(st, samplers...)
	sw := b.watchStore(rctx, st.uri, dbName(run), m, b.cfg.oursCap+b.cfg.storeCap)
	cpu0 := make([]float64, len(samplers))
	for i, s := range samplers {
		cpu0[i] = s.CPU()
	}
	others := make(chan error, 1)
	go func() {
		for range len(procs) - 1 {
			if r := <-readies; r.err != nil {
				others <- r.err
				return
			}
		}
		others <- nil
	}()
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
	u := m.read()
	select {
	case err := <-others:
		if err != nil {
			return err
		}
	case <-time.After(time.Second):
		fmt.Printf("bench: %s: not every instance consumed before aggregated_metrics was complete\n", system)
	}
	rss := func() float64 {
		sum := 0.0
		for _, s := range samplers {
			sum += float64(s.PeakRSS()) / (1 << 20)
		}
		return sum
	}
	time.Sleep(300 * time.Millisecond)
	r := result{System: system, Kind: "multi", Events: n, Seconds: tEnd.Sub(t0).Seconds(), PeakRSSMB: rss()}
	u.set(&r)
	r.fill()
	r.Mismatched, r.Partial = -1, partial
	if !partial {
		r.Mismatched = f.Mismatches(b.backlog.Truth)
	}
	r.StoreRSSMB = float64(st.s.PeakRSS()) / (1 << 20)
	b.results = append(b.results, r)
	fmt.Printf("bench: %-12s        %9.0f events/s  %5.2f cores  %8.0f events/s/core  %6.2f CPU-s/M  rss %6.0f MB (sum)  mismatched_windows=%d%s\n",
		r.System, r.EPS, r.CoresUsed, r.EPSPerCore, r.CPUPerMEvent, r.PeakRSSMB, r.Mismatched, r.storeNote()+r.partialNote())
	fmt.Println(r.cpuNote(runtime.NumCPU()))

	rs := b.storeFinish(r, t0, sw, rss, st)
	// Who did what: each instance's partitions in the group's final
	// assignment, the events the updates account for on them, and its CPU
	// over the whole run.
	assigned, err := b.groupAssignment(ctx, "bench-"+run)
	if err != nil {
		fmt.Printf("bench: %s: %v\n", system, err)
	}
	perPart := f.PartitionEvents()
	for i := range procs {
		in := instance{CPUSeconds: samplers[i].CPU() - cpu0[i], PeakRSSMB: float64(samplers[i].PeakRSS()) / (1 << 20)}
		for _, p := range assigned[fmt.Sprintf("bench-%d", i)] {
			in.Partitions = append(in.Partitions, strconv.Itoa(int(p)))
			in.Counted += float64(perPart[p])
		}
		rs.Instances = append(rs.Instances, in)
		fmt.Printf("bench: %-12s   instance %d: partitions [%s]  counted %.0f  %.1f CPU-s  rss %.0f MB\n",
			system, i, strings.Join(in.Partitions, ","), in.Counted, in.CPUSeconds, in.PeakRSSMB)
	}
	b.results[len(b.results)-1] = rs
	fmt.Printf("bench: %-12s        %9.0f events/s  %5.2f cores  %8.0f events/s/core  %6.2f CPU-s/M  rss %6.0f MB (sum)  store counted %d of %d%s%s\n",
		rs.System, rs.EPS, rs.CoresUsed, rs.EPSPerCore, rs.CPUPerMEvent, rs.PeakRSSMB, rs.Events, b.cfg.events, rs.storeNote(), rs.partialNote())
	fmt.Println(rs.cpuNote(runtime.NumCPU()))
	return nil
}

// groupAssignment returns the raw_events partitions of each static member
// (instance id) of a consumer group.
func (b *bench) groupAssignment(ctx context.Context, group string) (map[string][]int32, error) {
	gs, err := b.adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describe group %s: %w", group, err)
	}
	g, ok := gs[group]
	if !ok || g.Err != nil {
		return nil, fmt.Errorf("describe group %s: %v", group, g.Err)
	}
	out := map[string][]int32{}
	for _, mb := range g.Members {
		id := mb.MemberID
		if mb.InstanceID != nil {
			id = *mb.InstanceID
		}
		ca, ok := mb.Assigned.AsConsumer()
		if !ok {
			continue
		}
		for _, t := range ca.Topics {
			if t.Topic == metricdoc.TopicRawEvents {
				out[id] = append(out[id], t.Partitions...)
			}
		}
		slices.Sort(out[id])
	}
	return out, nil
}

// waitLog waits until p's log has a line containing s.
func waitLog(ctx context.Context, p *proc, s string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		buf, err := os.ReadFile(p.log.Name())
		if err == nil && bytes.Contains(buf, []byte(s)) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v), see %s", p.name, p.err, p.log.Name())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %q in its log within %s, see %s", p.name, s, limit, p.log.Name())
		}
	}
}
