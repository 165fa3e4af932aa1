//go:build integration

package pull

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
)

// TestRealKafkaNoGapNoRepeat runs the poller against Apache Kafka through a
// graceful stop, a crash (the client closed with its transaction open) and
// a kill -9 of the broker: the raw_events committed at the end match the
// simulator exactly, per app and hour.
func TestRealKafkaNoGapNoRepeat(t *testing.T) {
	b := realkafka.ForTest(t, realkafka.Options{})
	var (
		requests atomic.Int64
		hook     atomic.Pointer[func(n int64)]
	)
	e := newEnv(t, envConfig{span: 6 * time.Hour, brokers: b.Brokers(), wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/export/") {
				if f := hook.Load(); f != nil {
					(*f)(requests.Add(1))
				}
			}
			h.ServeHTTP(w, r)
		})
	}})
	o := e.options()
	o.Reports = []string{appsflyer.ReportInstalls, appsflyer.ReportInAppEvents}
	o.TransactionTimeout = 20 * time.Second
	total := float64(len(o.Apps) * len(o.Reports) * int(e.span/time.Hour))
	ctx := context.Background()

	// 1: graceful stop on the 5th download.
	c1, cancel1 := context.WithCancel(ctx)
	stop1 := func(n int64) {
		if n == 5 {
			cancel1()
		}
	}
	hook.Store(&stop1)
	p1 := e.poller(t, o)
	if err := p1.Run(c1); err != nil {
		t.Fatalf("first run: %v", err)
	}
	w1 := p1.metric(t, "campaignpulse_ingest_pull_windows_total", nil)
	p1.Close()

	// 2: crash on the 12th download: the client goes away mid-window
	// without ending its transaction.
	p2 := e.poller(t, o)
	crash := func(n int64) {
		if n == 12 {
			go p2.Close()
			time.Sleep(200 * time.Millisecond)
		}
	}
	hook.Store(&crash)
	_ = p2.Run(ctx) // fails once its client is closed
	w2 := p2.metric(t, "campaignpulse_ingest_pull_windows_total", nil)
	hook.Store(nil)

	// 3: kill -9 the broker and bring it back with its data.
	if err := b.Restart(ctx, true); err != nil {
		t.Fatal(err)
	}

	// 4: a new poller finishes the range.
	p3 := e.poller(t, o)
	if err := p3.Run(ctx); err != nil {
		t.Fatalf("third run: %v", err)
	}
	w3 := p3.metric(t, "campaignpulse_ingest_pull_windows_total", nil)
	if w1 == 0 || w2 == 0 || w1+w2+w3 != total {
		t.Fatalf("windows committed %v + %v + %v, want %v in total with each run doing some", w1, w2, w3, total)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
}

// TestRealKafkaLastStableOffsetMovesWithinAWindow produces a large window in
// transactions of chunkRecords records on Apache Kafka and holds the poller
// after its first and its third transaction: each time a read_committed
// reader sees exactly the records committed so far, while the rest of the
// window is not produced yet. The poller then crashes (its client closed
// between two transactions) and a new one finishes the range from the
// committed part: every event once.
func TestRealKafkaLastStableOffsetMovesWithinAWindow(t *testing.T) {
	b := realkafka.ForTest(t, realkafka.Options{})
	e, o := largeWindows(t, envConfig{brokers: b.Brokers()})
	o.TransactionTimeout = 20 * time.Second
	o.RequestTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var visible []int
	first := e.poller(t, o)
	first.betweenTransactions = func(sp span, committed int) {
		if committed != chunkRecords && committed != 3*chunkRecords {
			return
		}
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Minute)
		defer rcancel()
		n, err := e.visibleRecords(rctx, committed)
		if err != nil {
			n = -1
		}
		visible = append(visible, n)
		if committed == 3*chunkRecords {
			cancel()
			first.Close()
		}
	}
	_ = first.Run(ctx)
	if len(visible) != 2 || visible[0] != chunkRecords || visible[1] != 3*chunkRecords {
		t.Fatalf("read_committed saw %v records between transactions, want [%d %d]", visible, chunkRecords, 3*chunkRecords)
	}

	second := e.poller(t, o)
	if err := second.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if got := second.metric(t, "campaignpulse_ingest_pull_resumed_records_total", nil); got != 3*chunkRecords {
		t.Fatalf("resumed records %v, want %d", got, 3*chunkRecords)
	}
}
