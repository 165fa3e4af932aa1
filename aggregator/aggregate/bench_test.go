package aggregate

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/dedupstore"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/bench/procstat"
)

// benchEvents returns n distinct ~1 KB push events, in time order over a
// few hours, spread over 2 apps x 20 campaigns x 2 platforms x 2 names.
// With escaped, event_value is a JSON string with escaped quotes, as
// AppsFlyer pushes it; otherwise a nested object of the same size.
func benchEvents(n int, escaped bool) [][]byte {
	base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	pad := strings.Repeat("x", 420)
	out := make([][]byte, n)
	for i := range out {
		at := base.Add(time.Duration(i) * 10 * time.Millisecond).Format("2006-01-02 15:04:05.000")
		name, rev := "install", ""
		if i%3 == 0 {
			name, rev = "af_purchase", `,"event_revenue":"4.99","event_revenue_currency":"USD","event_revenue_usd":"4.99"`
		}
		out[i] = []byte(fmt.Sprintf(`{"api_version":"2.0","app_id":"id%09d","appsflyer_id":"1707053358481-%07d","event_name":%q,`+
			`"event_time":%q,"install_time":%q,"media_source":"Facebook Ads","campaign":"BF_%02d_US","af_c_id":"23861457577810710",`+
			`"platform":%q,"is_retargeting":"false","wifi":"true","country_code":"US","city":"New York","ip":"203.0.113.7",`+
			`"device_model":"iPhone15,2","os_version":"17.1","sdk_version":"v6.12.1","app_version":"3.4.5","language":"en-US",`+
			`"event_value":"{\"af_content_id\":\"sku-123\",\"note\":\"%s\"}"%s}`,
			i%2, i, name, at, at, i%20, []string{"ios", "android"}[i%2/1^(i/2)%2], pad, rev))
		if !escaped {
			out[i] = []byte(strings.NewReplacer(`"{\"af_content_id\":\"sku-123\",\"note\":\"`, `{"af_content_id":"sku-123","note":"`, pad+`\"}"`, pad+`"}`).Replace(string(out[i])))
		}
	}
	return out
}

// BenchmarkProcess measures parse + identity + de-dup + hour and day
// window update per event (one core): with the in-memory set alone, and
// with the aggregator's state path (the memory-bounded set over the local
// store, and the changelog records encoded every 10,000 events as flushes
// do).
//
// state=store runs with the default memory budget (2M identities, more
// than the benchmark's hours hold); state=store-spilled with the minimum
// (1,000), so every identity is looked up and written in the local store:
// the cost of late events whose hour was spilled.
func BenchmarkProcess(b *testing.B) {
	for _, st := range []struct {
		name string
		hot  int // 0: in-memory set only
	}{{"state=memory", 0}, {"state=store", 2_000_000}, {"state=store-spilled", 1000}} {
		b.Run(st.name+"/event_value=escaped", func(b *testing.B) { benchProcess(b, benchEvents(200_000, true), st.hot) })
		b.Run(st.name+"/event_value=object", func(b *testing.B) { benchProcess(b, benchEvents(200_000, false), st.hot) })
	}
}

func benchProcess(b *testing.B, evs [][]byte, hot int) {
	var st *dedupstore.Store
	store := hot > 0
	if store {
		var err error
		if st, err = dedupstore.Open(dedupstore.Options{Dir: b.TempDir(), HotIdentities: hot}); err != nil {
			b.Fatal(err)
		}
		defer st.Close()
	}
	fresh := func() *partState {
		ps := newPartState(0, testRules(time.UTC))
		if st != nil {
			ps.dedup = st.NewSet()
		}
		return ps
	}
	size := 0
	for _, e := range evs {
		size += len(e)
	}
	rec := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).UnixMilli()
	ps := fresh()
	b.SetBytes(int64(size / len(evs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		if j == 0 && i > 0 {
			b.StopTimer()
			_ = ps.dedup.Close()
			ps = fresh() // fresh identities each pass
			b.StartTimer()
		}
		if o, r := ps.process(evs[j], int64(i), rec, "push"); o != outCounted {
			b.Fatalf("event %d: %s %s", j, o, r)
		}
		if store && len(ps.logged) == 10_000 {
			_ = encodeChangelog(ps.logFrom, ps.next, false, ps.logged)
			ps.logged, ps.logFrom = ps.logged[:0], ps.next
		} else if !store && len(ps.logged) == 10_000 {
			ps.logged = ps.logged[:0]
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStateMemory reports the heap held per remembered identity and
// per open window: 5M identities over 26 event hours and 100k windows.
func BenchmarkStateMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		before := heap()
		d := newDedup()
		base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC).Unix()
		const ids = 5_000_000
		for k := uint64(0); k < ids; k++ {
			_, _ = d.Add(k*0x9e3779b97f4a7c15, base+int64(k%(26*3600)))
		}
		perID := float64(heap()-before) / ids

		ps := newPartState(0, testRules(time.UTC))
		rec := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).UnixMilli()
		raw := make([][]byte, 50_000)
		for k := range raw {
			raw[k] = rawEvent("app", fmt.Sprint(k), "install", "2026-11-26 10:00:00", "ios", "")
			raw[k] = []byte(strings.Replace(string(raw[k]), `"campaign":"c1"`, fmt.Sprintf(`"campaign":"campaign-%06d"`, k), 1))
		}
		before = heap()
		for k, e := range raw {
			ps.process(e, int64(k), rec, "push")
		}
		ps.dedup = newDedup() // count windows only
		wins := len(ps.windows)
		perWin := float64(heap()-before) / float64(wins)
		// Resident set with both states alive: 5M identities + 100k windows.
		rssMB := float64(uint64(procstat.RSS(os.Getpid()))) / (1 << 20)
		runtime.KeepAlive(ps)
		runtime.KeepAlive(d)
		if wins != 100_000 {
			b.Fatalf("%d windows, want 100000", wins)
		}
		b.ReportMetric(perID, "B/identity")
		b.ReportMetric(perWin, "B/window")
		if rssMB > 0 {
			b.ReportMetric(rssMB, "MB_RSS")
		}
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkCount measures the poll loop's counting step alone (no Kafka,
// no store): polls of 10,000 records over 6 partitions, counted by the
// given number of workers, with the production state (memory-bounded
// de-duplication set) and the production fan-out. events/s over the wall
// clock shows what the workers add on this machine's cores; run it with
// -cpu 1,2 to see the same with one and two cores available.
func BenchmarkCount(b *testing.B) {
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchCount(b, workers) })
	}
}

func benchCount(b *testing.B, workers int) {
	const parts, perPoll = 6, 10_000
	evs := benchEvents(120_000, true)
	st, err := dedupstore.Open(dedupstore.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a := &Aggregator{
		opts: Options{Brokers: []string{"x"}, MaxRoundWindows: 1 << 30}.WithDefaults(), m: newMetrics(prometheus.NewRegistry()),
		parts: map[int32]*partState{}, contrib: map[int32]*tally{}, resynced: map[int32]bool{},
	}
	a.counter.workers = workers
	defer a.counter.stop()
	rec := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	recs := make([][]*kgo.Record, parts)
	for i, e := range evs {
		p := i % parts
		recs[p] = append(recs[p], &kgo.Record{Topic: a.opts.Topic, Partition: int32(p), Offset: int64(len(recs[p])), Value: e, Timestamp: rec,
			Headers: []kgo.RecordHeader{{Key: metricdoc.HeaderSource, Value: []byte(metricdoc.SourcePush)}}})
	}
	reset := func() {
		for p := range int32(parts) {
			if ps := a.parts[p]; ps != nil {
				_ = ps.dedup.Close()
			}
			ps := newPartState(p, testRules(time.UTC))
			ps.dedup = st.NewSet()
			a.parts[p], a.contrib[p] = ps, &tally{}
		}
	}
	reset()
	pc := &pacing{}
	per := perPoll / parts
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	pos := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if pos+per > len(recs[0]) {
			b.StopTimer()
			reset()
			pos = 0
			b.StartTimer()
		}
		fps := make([]kgo.FetchPartition, parts)
		for p := range fps {
			fps[p] = kgo.FetchPartition{Partition: int32(p), Records: recs[p][pos : pos+per], HighWatermark: int64(len(recs[p]))}
		}
		a.count(context.Background(), kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: a.opts.Topic, Partitions: fps}}}}, pc)
		pos += per
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(cpu.Seconds()/b.Elapsed().Seconds(), "cores")
	for _, ps := range a.parts {
		if ps.tally.counts[outCounted] == 0 {
			b.Fatalf("partition %d counted nothing", ps.p)
		}
	}
	b.ReportMetric(float64(b.N*per*parts)/b.Elapsed().Seconds(), "events/s")
}
