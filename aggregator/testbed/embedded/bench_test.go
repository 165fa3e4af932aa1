package embedded_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded"
)

// BenchmarkFlushLiveWrites measures what a flush costs on the embedded
// FerretDB: one op rewrites `dirty` live documents of a collection holding
// `stored` of them, through the store's write path (read by _id, write by
// _id), with FerretDB's SQLite files opened with the given pragmas and the
// _id lookups indexed. Reported: ms per document.
//
//	go test -run '^$' -bench BenchmarkFlushLiveWrites -benchtime 3x ./aggregator/testbed/embedded/
func BenchmarkFlushLiveWrites(b *testing.B) {
	for _, pr := range []struct {
		name    string
		pragmas []string
	}{
		{"sqlite_default", []string{""}},
		{"sqlite_embedded", embedded.SQLitePragmas},
	} {
		for _, shape := range []struct{ stored, dirty int }{{2000, 500}, {20000, 500}} {
			b.Run(fmt.Sprintf("%s/stored=%d/dirty=%d", pr.name, shape.stored, shape.dirty), func(b *testing.B) {
				benchLiveWrites(b, pr.pragmas, shape.stored, shape.dirty)
			})
		}
	}
}

func benchLiveWrites(b *testing.B, pragmas []string, stored, dirty int) {
	ctx := context.Background()
	m, err := embedded.StartMongo(ctx, b.TempDir(), "", nil, pragmas...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Close)
	st, mc := openStore(b, m, "bench")
	docs := make([]metricdoc.Live, stored)
	start := time.Now().UTC().Truncate(time.Hour)
	for i := range docs {
		meta := metricdoc.Meta{AppID: "app", MediaSource: "src", Campaign: fmt.Sprintf("c%d", i%200), Platform: "ios", EventName: "install"}
		ws := start.Add(-time.Duration(i/200) * time.Hour)
		docs[i] = metricdoc.Live{ID: metricdoc.LiveID(metricdoc.Hour, ws, meta, int32(i%3)), Granularity: metricdoc.Hour,
			WindowStart: ws, WindowEnd: ws.Add(time.Hour), Meta: meta, Partition: int32(i % 3),
			Totals: metricdoc.Totals{Events: 1}, Offset: 1}
	}
	seed := make([]any, len(docs))
	for i := range docs {
		seed[i] = docs[i]
	}
	if _, err := mc.Database("bench").Collection(metricdoc.CollLive).InsertMany(ctx, seed); err != nil {
		b.Fatal(err)
	}
	if _, err := m.IndexIDLookups(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for n := range b.N {
		batch := docs[:dirty]
		for i := range batch {
			batch[i].Events++
			batch[i].Offset = int64(n + 2)
		}
		if _, err := st.WriteLive(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*dirty), "ms/doc")
}
