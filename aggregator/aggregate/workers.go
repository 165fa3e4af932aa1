package aggregate

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The partitions of one poll are counted in parallel, by up to Workers
// goroutines (the poll loop's own included). Parallelism is by ownership:
// a partition's records form one job, and the goroutine that takes a job is
// the only one touching its partState (windows, de-duplication set,
// changelog and freshness lists, parse target) and its share of
// events_total until the join. What jobs share is read-only while they run
// (options, rules, the metric handles) or safe for concurrent use (the
// Kafka client's Produce, Pebble under the de-duplication sets, the
// memory budget's atomic count). What a job adds to the process-wide
// counters is gathered in the job and added after the join, so the hot
// path writes no cache line another core reads.
//
// Everything else happens on the poll loop with no job running: flushes,
// store rounds, reloads, the group's callbacks (which wait for a.mu, held
// from the poll to the join), so the exact-totals argument of the package
// doc is untouched: each partition still sees its records in order, one at
// a time, and a store round copies each partition at a record boundary.

// partJob is one partition's records of a poll.
type partJob struct {
	ps      *partState
	contrib *tally
	recs    []*kgo.Record
	hw      int64 // the fetch's high watermark, for the lag gauge
	next    int   // index of the next record to handle
	stopped bool  // the partition was reloaded or dropped mid-poll

	// Added to the metrics after the join.
	events      [numOutcomes]int64
	corrections int64
	replayBytes int64
}

// counter runs the jobs of one poll. Its fields are set by the poll loop
// before a fan-out and read by the workers, or written by one worker per
// job and read by the loop after the join.
type counter struct {
	workers int
	jobs    []partJob
	taken   atomic.Int64 // jobs handed out in this fan-out

	// A store round starts in the middle of a poll when enough windows
	// wait and none is in flight: the workers then stop at the next
	// boundary of 64 records, the loop starts the round and fans out again.
	earlyRound bool // no round in flight and consumption not paused
	dirtyBase  int  // windows waiting when the fan-out began
	dirtyAdded atomic.Int64
	yield      atomic.Bool

	wake    chan struct{} // one token per helper goroutine a fan-out uses
	helpers int
	wg      sync.WaitGroup
	failMu  sync.Mutex
	failure any // a worker's panic, raised again on the poll loop
}

// stop ends the helper goroutines; no fan-out may follow.
func (c *counter) stop() {
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
}

// count handles the records of one poll. Called from the poll loop with
// a.mu held.
func (a *Aggregator) count(ctx context.Context, fetches kgo.Fetches, pc *pacing) {
	c := &a.counter
	c.jobs = c.jobs[:0]
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		ps := a.parts[fp.Partition]
		if ps == nil || a.resynced[fp.Partition] {
			return // a reloaded partition is fetched again from its replay start
		}
		c.jobs = append(c.jobs, partJob{ps: ps, contrib: a.contrib[ps.p], recs: fp.Records, hw: fp.HighWatermark})
	})
	for {
		c.earlyRound = !pc.paused && a.round == nil
		c.dirtyBase = a.dirtyWindows()
		c.dirtyAdded.Store(0)
		c.yield.Store(false)
		a.fanOut()
		a.mergeJobs()
		if !c.yield.Load() {
			break
		}
		// Enough windows wait: start a store round, then go on with the
		// records not handled yet.
		a.flushPaced(ctx, pc)
		for i := range c.jobs {
			j := &c.jobs[i]
			if a.parts[j.ps.p] != j.ps || a.resynced[j.ps.p] {
				j.stopped = true
			}
		}
	}
	for i := range c.jobs {
		if j := &c.jobs[i]; !j.stopped {
			a.m.lag.WithLabelValues(strconv.Itoa(int(j.ps.p))).Set(float64(max(j.hw-j.ps.next, 0)))
		}
	}
	clear(c.jobs) // the records are the fetch's
}

// fanOut runs the unfinished jobs on up to Workers goroutines and returns
// when all have stopped.
func (a *Aggregator) fanOut() {
	c := &a.counter
	c.taken.Store(0)
	left := 0
	for i := range c.jobs {
		if j := &c.jobs[i]; !j.stopped && j.next < len(j.recs) {
			left++
		}
	}
	if helpers := min(c.workers, left) - 1; helpers > 0 {
		if c.wake == nil {
			c.wake = make(chan struct{}, c.workers)
		}
		for ; c.helpers < helpers; c.helpers++ {
			go a.helper(c.wake)
		}
		c.wg.Add(helpers)
		for range helpers {
			c.wake <- struct{}{}
		}
		a.work()
		c.wg.Wait()
	} else {
		a.work()
	}
	if f := c.failure; f != nil {
		panic(f) // the de-duplication store failed: crash, as on the loop
	}
}

// helper is one of the goroutines that share a fan-out with the poll loop.
func (a *Aggregator) helper(wake <-chan struct{}) {
	for range wake {
		a.work()
		a.counter.wg.Done()
	}
}

// work takes jobs until none is left or a store round is due.
func (a *Aggregator) work() {
	c := &a.counter
	defer func() {
		if r := recover(); r != nil {
			c.failMu.Lock()
			if c.failure == nil {
				c.failure = r
			}
			c.failMu.Unlock()
			c.yield.Store(true) // the others stop soon
		}
	}()
	for !c.yield.Load() {
		i := int(c.taken.Add(1)) - 1
		if i >= len(c.jobs) {
			return
		}
		if j := &c.jobs[i]; !j.stopped && j.next < len(j.recs) {
			a.handle(j)
		}
	}
}

// handle processes the records of one job, from where it stopped last.
func (a *Aggregator) handle(j *partJob) {
	c := &a.counter
	ps, tl := j.ps, j.contrib
	for j.next < len(j.recs) {
		i := j.next
		r := j.recs[i]
		j.next++
		dirty := len(ps.dirty)
		a.handleRecord(j, ps, tl, r)
		if c.earlyRound {
			if n := len(ps.dirty) - dirty; n > 0 {
				c.dirtyAdded.Add(int64(n))
			}
			if i%64 == 63 && (c.yield.Load() || c.dirtyBase+int(c.dirtyAdded.Load()) >= a.opts.MaxRoundWindows) {
				c.yield.Store(true)
				return
			}
		}
	}
}

func (a *Aggregator) handleRecord(j *partJob, ps *partState, tl *tally, r *kgo.Record) {
	if r.Attrs.IsControl() {
		ps.skipControl(r.Offset)
		return
	}
	ms := r.Timestamp.UnixMilli()
	switch {
	case r.Offset < ps.replayTo:
		if r.Offset >= ps.replayPos {
			j.replayBytes += int64(len(r.Value) + len(r.Key))
			ps.replay(r.Value, r.Offset, ms)
			ps.replayPos = r.Offset + 1
		}
		return
	case r.Offset < ps.next:
		return // delivered again after a seek
	}
	o, reason := ps.process(r.Value, r.Offset, ms, source(r))
	if o == outDeadLettered {
		a.deadLetter(r, reason)
	}
	if o == outCounted && ps.late {
		j.corrections++
	}
	if r.Offset >= tl.offset {
		tl.offset = r.Offset + 1
		tl.counts[o]++
		j.events[o]++
	}
}

// mergeJobs adds what the jobs counted to the metrics. Called after a join.
func (a *Aggregator) mergeJobs() {
	for i := range a.counter.jobs {
		j := &a.counter.jobs[i]
		for o, n := range j.events {
			if n > 0 {
				a.m.events[o].Add(float64(n))
			}
		}
		if j.corrections > 0 {
			a.m.corrections.Add(float64(j.corrections))
		}
		if j.replayBytes > 0 {
			a.m.restoreBytes.WithLabelValues("raw_events").Add(float64(j.replayBytes))
		}
		j.events, j.corrections, j.replayBytes = [numOutcomes]int64{}, 0, 0
	}
}
