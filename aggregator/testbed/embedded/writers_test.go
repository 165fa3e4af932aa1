package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
)

// writers is one embedded store and n stores on it, each with its own
// client and its own live documents (one partition each), as n aggregators
// of one group would write.
type writers struct {
	stores []*metricstore.Store
	docs   [][]metricdoc.Live
	rounds int
}

func newWriters(tb testing.TB, n, perWriter int) *writers {
	tb.Helper()
	m, err := embedded.StartMongo(context.Background(), tb.TempDir(), "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Close)
	w := &writers{}
	start := time.Now().UTC().Truncate(time.Hour)
	for p := range n {
		st, _ := openStore(tb, m, "writers")
		docs := make([]metricdoc.Live, perWriter)
		for i := range docs {
			meta := metricdoc.Meta{AppID: "app", MediaSource: "src", Campaign: fmt.Sprintf("c%d", i), Platform: "ios", EventName: "install"}
			docs[i] = metricdoc.Live{ID: metricdoc.LiveID(metricdoc.Hour, start, meta, int32(p)), Granularity: metricdoc.Hour,
				WindowStart: start, WindowEnd: start.Add(time.Hour), Meta: meta, Partition: int32(p), Offset: 1}
		}
		w.stores = append(w.stores, st)
		w.docs = append(w.docs, docs)
	}
	return w
}

// openStore opens a store on database db of m through a client of its
// own, as one aggregator process would, and returns the client too; both
// close with tb.
func openStore(tb testing.TB, m *embedded.Mongo, db string) (*metricstore.Store, *mongo.Client) {
	tb.Helper()
	mc, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	st, err := metricstore.Open(context.Background(), mc, metricstore.Options{Database: db}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	return st, mc
}

// round has every writer rewrite all its documents at once, each within
// timeout.
func (w *writers) round(ctx context.Context, timeout time.Duration) error {
	w.rounds++
	g, ctx := errgroup.WithContext(ctx)
	for p, st := range w.stores {
		docs := w.docs[p]
		for i := range docs {
			docs[i].Events++
			docs[i].Offset = int64(w.rounds + 1)
		}
		g.Go(func() error {
			wctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if _, err := st.WriteLive(wctx, docs); err != nil {
				return fmt.Errorf("writer %d, round %d: %w", p, w.rounds, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// TestConcurrentWritersDoNotStall has three stores rewrite 300 live
// documents each at the same time, as three aggregators of one group do on
// one embedded store. FerretDB v1 holds a connection per update statement
// until a bulk write ends, out of 100: with 50-statement bulk writes the
// three wait for each other forever and every round times out.
func TestConcurrentWritersDoNotStall(t *testing.T) {
	w := newWriters(t, 3, 300)
	for range 3 {
		// A round takes a few seconds; two minutes only catches a stall.
		if err := w.round(t.Context(), 2*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkConcurrentWriters measures live documents written per second by
// one and by three concurrent writers on the embedded store.
//
//	go test -run '^$' -bench BenchmarkConcurrentWriters -benchtime 4x ./aggregator/testbed/embedded/
func BenchmarkConcurrentWriters(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("writers=%d", n), func(b *testing.B) {
			w := newWriters(b, n, 300)
			b.ResetTimer()
			for range b.N {
				if err := w.round(context.Background(), 5*time.Minute); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n*300)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
