// Command benchstate fills the aggregator's de-duplication state the way a
// day of traffic does (`make bench-state`): identities spread over the
// whole horizon (lateness + correction horizon + the current hour, 27 h by
// default) in event-time order, accelerated, with a share of copies that
// must be found, through the same memory-bounded set over the local store
// the aggregator uses, with its default budget. Its last line is
//
//	state: identities=<n> rss_mb=<n> bytes_per_identity=<x> add_ns=<n>
//
// (bytes_per_identity is resident memory per identity held, add_ns the
// process's CPU time per add, background compactions included) and it exits
// non-zero when a copy is missed or a new identity is taken for a copy.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/dedupstore"
	"github.com/campaignpulse/campaignpulse/bench/procstat"
)

func main() { os.Exit(run()) }

func run() int {
	n := flag.Int("identities", 50_000_000, "distinct identities to add")
	hours := flag.Int("hours", 27, "event-time horizon the identities spread over")
	parts := flag.Int("partitions", 6, "partitions (one set each), as raw_events has")
	hot := flag.Int("hot-identities", 2_000_000, "identities kept in memory (--aggregate.hot-identities)")
	dir := flag.String("dir", "", "directory of the local store (default: a temp dir)")
	memLimit := flag.Int64("memory-limit", 410<<20, "Go memory limit, as the aggregate command derives it from a 512 MiB container (0 = none)")
	flag.Parse()
	if v := os.Getenv("GOMEMLIMIT"); v == "" && *memLimit > 0 {
		debug.SetMemoryLimit(*memLimit)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "campaignpulse-benchstate-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		*dir = d
	}
	defer os.RemoveAll(*dir)
	st, err := dedupstore.Open(dedupstore.Options{Dir: *dir, HotIdentities: *hot})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	sets := make([]*dedupstore.Set, *parts)
	for i := range sets {
		sets[i] = st.NewSet()
	}

	rng := rand.New(rand.NewPCG(42, 8))
	base := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Unix()
	span := int64(*hours) * 3600
	type recent struct {
		id  uint64
		sec int64
		p   int
	}
	ring := make([]recent, 4096)
	var adds, copies, wrong int64
	began, cpu0 := time.Now(), cpuTime()
	for i := 0; i < *n; i++ {
		// Event time advances through the horizon; one in ten events is
		// up to 2 h late, one in twenty is a copy of a recent event.
		sec := base + int64(i)*span/int64(*n)
		if rng.IntN(10) == 0 {
			sec -= rng.Int64N(2 * 3600)
		}
		id, p := rng.Uint64(), rng.IntN(*parts)
		seen, err := sets[p].Add(id, sec)
		adds++
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if seen {
			wrong++
		}
		ring[i%len(ring)] = recent{id, sec, p}
		if i%20 == 19 {
			r := ring[rng.IntN(min(i+1, len(ring)))]
			seen, err := sets[r.p].Add(r.id, r.sec)
			adds++
			copies++
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if !seen {
				wrong++
			}
		}
		if i%10_000_000 == 9_999_999 {
			fmt.Printf("progress: %d identities, rss %d MiB, store %d MiB, %s\n", i+1, uint64(procstat.RSS(os.Getpid()))>>20, st.DiskBytes()>>20, time.Since(began).Round(time.Second))
		}
	}
	held := 0
	for _, s := range sets {
		held += s.Len()
	}
	// CPU time of the whole process per add (the store's flushes and
	// compactions and the GC included; generating identities too): wall
	// time means little on a shared machine.
	addTime := cpuTime() - cpu0
	r := uint64(procstat.RSS(os.Getpid()))
	fmt.Printf("store: disk_mb=%d hot=%d copies=%d wrong_answers=%d took=%s\n", st.DiskBytes()>>20, st.Hot(), copies, wrong, time.Since(began).Round(time.Second))
	fmt.Printf("state: identities=%d rss_mb=%d bytes_per_identity=%.1f add_ns=%d\n",
		held, r>>20, float64(r)/float64(held), addTime.Nanoseconds()/adds)
	if wrong > 0 || held != *n {
		return 1
	}
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
