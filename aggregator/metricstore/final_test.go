package metricstore

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/netfault"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// onInsert returns a command monitor calling fn when an insert into coll starts.
func onInsert(coll string, fn func()) *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "insert" && e.Command.Lookup("insert").StringValue() == coll {
			fn()
		}
	}}
}

func openVia(t *testing.T, uri, database string, mon *event.CommandMonitor) *Store {
	t.Helper()
	opts := options.Client().ApplyURI(uri)
	if mon != nil {
		opts.SetMonitor(mon)
	}
	mc, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	s, err := Open(t.Context(), mc, Options{Database: database}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func finalsOf(live []metricdoc.Live) []metricdoc.Final {
	out := make([]metricdoc.Final, len(live))
	for i, d := range live {
		out[i] = metricdoc.Final{WindowStart: d.WindowStart, Meta: d.Meta, Partition: d.Partition, Totals: d.Totals}
	}
	return out
}

// readerInstalls answers "installs per hour" for the windows of live the
// way the plugin does: its planner's pipeline over hourly_metrics.
func readerInstalls(t *testing.T, s *Store, live []metricdoc.Live) int64 {
	t.Helper()
	from := live[0].WindowStart
	q := request.Query{Measure: metricdoc.MeasureInstalls, Granularity: metricdoc.Hour, From: from, To: from.Add(time.Hour)}
	plan, err := pipeline.NewPlan(q, from.Add(time.Hour), time.UTC)
	if err != nil || len(plan.Parts) != 1 || plan.Parts[0].Collection != metricdoc.CollHourly {
		t.Fatalf("plan %+v, %v; want one part on %s", plan, err, metricdoc.CollHourly)
	}
	cur, err := s.coll(metricdoc.CollHourly).Aggregate(t.Context(), plan.Parts[0].Pipeline)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for cur.Next(t.Context()) {
		r, err := pipeline.DecodeRow(cur.Current, nil, plan.Timed)
		if err != nil {
			t.Fatal(err)
		}
		total += r.Value
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

func countFinals(t *testing.T, s *Store) int64 {
	t.Helper()
	n, err := s.coll(metricdoc.CollHourly).CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testDatabase(t *testing.T) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(strings.ToLower(t.Name()))
}

// TestFinalizeCancelledInsertAppliedByServer: the server applies an append
// whose client never hears back and gives up (context deadline); the next
// owner's Finalize then finds the windows through the meta + window_start
// index and appends nothing, and the reader's totals are exact.
func TestFinalizeCancelledInsertAppliedByServer(t *testing.T) {
	db := testDatabase(t)
	proxy, err := netfault.Listen(strings.TrimSuffix(strings.TrimPrefix(mongoURI, "mongodb://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	zombie := openVia(t, "mongodb://"+proxy.Addr()+"/?directConnection=true", db, onInsert(metricdoc.CollHourly, func() { proxy.Drop(true) }))
	next := openVia(t, mongoURI, db, nil)

	live := []metricdoc.Live{liveDoc(1, "a", 3, 10), liveDoc(1, "b", 4, 10)}
	if _, err := next.WriteLive(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	err = zombie.Finalize(ctx, metricdoc.Hour, finalsOf(live))
	cancel()
	if err == nil {
		t.Fatal("finalize through the reply-dropping proxy succeeded; want a cancelled insert")
	}
	deadline := time.Now().Add(30 * time.Second)
	for countFinals(t, next) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not apply the cancelled insert: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := next.Finalize(t.Context(), metricdoc.Hour, finalsOf(live)); err != nil {
		t.Fatal(err)
	}
	if n := countFinals(t, next); n != 2 {
		t.Fatalf("%d final documents after the next owner's finalize, want 2 (nothing appended twice)", n)
	}
	if got := readerInstalls(t, next, live); got != 7 {
		t.Fatalf("reader counts %d installs, want 7", got)
	}
}

// TestFinalizeRacedBySecondOwner: a second owner finalizes the same windows
// between the first one's look-up and its insert (as when a cancelled
// insert is still in flight). Without a unique key both copies land, as on
// a real time-series collection; the plugin's reader still counts each
// window once.
func TestFinalizeRacedBySecondOwner(t *testing.T) {
	db := testDatabase(t)
	second := openVia(t, mongoURI, db, nil)
	live := []metricdoc.Live{liveDoc(2, "a", 3, 10), liveDoc(2, "b", 4, 10), liveDoc(2, "c", 5, 10)}
	if _, err := second.WriteLive(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var raceErr error
	first := openVia(t, mongoURI, db, onInsert(metricdoc.CollHourly, func() {
		once.Do(func() { raceErr = second.Finalize(context.Background(), metricdoc.Hour, finalsOf(live)) })
	}))
	if err := first.Finalize(t.Context(), metricdoc.Hour, finalsOf(live)); err != nil {
		t.Fatal(err)
	}
	if raceErr != nil {
		t.Fatal(raceErr)
	}
	if n := countFinals(t, first); n != 6 {
		t.Fatalf("%d final documents, want 6: the collection must behave like a time-series one (no unique window key)", n)
	}
	if got := readerInstalls(t, first, live); got != 12 {
		t.Fatalf("reader counts %d installs over duplicated finals, want 12", got)
	}
	// A third finalize sees every window and appends nothing.
	if err := first.Finalize(t.Context(), metricdoc.Hour, finalsOf(live)); err != nil {
		t.Fatal(err)
	}
	if n := countFinals(t, first); n != 6 {
		t.Fatalf("%d final documents after a retry, want 6", n)
	}
}
