package metricstore

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

func liveDoc(p int32, campaign string, events, offset int64) metricdoc.Live {
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := metricdoc.Meta{AppID: "app", MediaSource: "fb", Campaign: campaign, Platform: "ios", EventName: "install"}
	return metricdoc.Live{
		ID: metricdoc.LiveID(metricdoc.Hour, start, m, p), Granularity: metricdoc.Hour, WindowStart: start,
		WindowEnd: start.Add(time.Hour), Meta: m, Partition: p, Totals: metricdoc.Totals{Events: events}, Offset: offset,
	}
}

// TestWriteLiveRejectsStaleWriters: a writer whose document includes less
// of the partition than the stored one must not overwrite it, in a batch
// larger than BatchSize with the stale document in the middle.
func TestWriteLiveRejectsStaleWriters(t *testing.T) {
	for _, idOnly := range []bool{false, true} {
		t.Run(map[bool]string{false: "atomic guarded update", true: "read then write by _id"}[idOnly], func(t *testing.T) {
			testWriteLiveRejectsStaleWriters(t, idOnly)
		})
	}
}

func testWriteLiveRejectsStaleWriters(t *testing.T, idOnly bool) {
	s, _, _ := openStore(t, Options{BatchSize: 3})
	s.caps.IDFiltersOnly = idOnly
	ctx := t.Context()
	var docs []metricdoc.Live
	for _, c := range []string{"a", "b", "c", "d", "e"} {
		docs = append(docs, liveDoc(0, c, 10, 100))
	}
	if stale, err := s.WriteLive(ctx, docs); err != nil || len(stale) != 0 {
		t.Fatalf("first write: stale %v, err %v", stale, err)
	}
	// A newer writer moved "c" to offset 200.
	if stale, err := s.WriteLive(ctx, []metricdoc.Live{liveDoc(0, "c", 20, 200)}); err != nil || len(stale) != 0 {
		t.Fatalf("newer write: stale %v, err %v", stale, err)
	}
	// A replaying writer at offset 150 updates all five.
	for i := range docs {
		docs[i].Events, docs[i].Offset = 15, 150
	}
	stale, err := s.WriteLive(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 1 || stale[0] != docs[2].ID {
		t.Fatalf("stale = %v, want only %s", stale, docs[2].ID)
	}
	got, err := s.GetLive(ctx, []string{docs[0].ID, docs[2].ID, docs[4].ID})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{docs[0].ID: 15, docs[2].ID: 20, docs[4].ID: 15}
	for _, d := range got {
		if d.Events != want[d.ID] {
			t.Errorf("%s events = %d, want %d", d.ID, d.Events, want[d.ID])
		}
	}
	// The same offset again is an idempotent retry, not stale.
	if stale, err := s.WriteLive(ctx, docs[:1]); err != nil || len(stale) != 0 {
		t.Fatalf("retry at the same offset: stale %v, err %v", stale, err)
	}
	loaded, err := s.LoadLive(ctx, 0, docs[0].WindowStart)
	if err != nil || len(loaded) != 5 {
		t.Fatalf("LoadLive = %d docs, %v; want 5", len(loaded), err)
	}
	if loaded, _ := s.LoadLive(ctx, 0, docs[0].WindowEnd); len(loaded) != 0 {
		t.Fatalf("LoadLive after the window end = %d docs, want 0", len(loaded))
	}
}

// TestFinalizeAppendsOnce simulates a crash after the append and before the
// live documents were marked: the retry must not append again.
func TestFinalizeAppendsOnce(t *testing.T) {
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	s, rec, _ := openStore(t, Options{LiveGrace: time.Hour, Now: func() time.Time { return now }})
	ctx := t.Context()
	live := []metricdoc.Live{liveDoc(1, "a", 3, 10), liveDoc(1, "b", 4, 10)}
	if _, err := s.WriteLive(ctx, live); err != nil {
		t.Fatal(err)
	}
	finals := make([]metricdoc.Final, len(live))
	for i, d := range live {
		finals[i] = metricdoc.Final{WindowStart: d.WindowStart, Meta: d.Meta, Partition: d.Partition, Totals: d.Totals}
	}
	// The crash: only the first document was appended, nothing marked.
	if _, err := s.coll(metricdoc.CollHourly).InsertOne(ctx, finals[0]); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	for i := 0; i < 2; i++ {
		if err := s.Finalize(ctx, metricdoc.Hour, finals); err != nil {
			t.Fatalf("finalize %d: %v", i, err)
		}
	}
	inserts := rec.named("insert")
	if len(inserts) != 1 {
		t.Fatalf("%d insert commands, want 1 (only the missing document, once)", len(inserts))
	}
	if docs, _ := inserts[0].Lookup("documents").Array().Values(); len(docs) != 1 {
		t.Fatalf("insert carried %d documents, want 1", len(docs))
	}
	var got []metricdoc.Final
	cur, err := s.coll(metricdoc.CollHourly).Find(ctx, bson.D{})
	if err != nil || cur.All(ctx, &got) != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Events+got[1].Events != 7 {
		t.Fatalf("hourly_metrics = %+v, want the two windows once", got)
	}
	marked, _ := s.GetLive(ctx, []string{live[0].ID, live[1].ID})
	for _, d := range marked {
		if !d.Final || d.ExpireAt != nil {
			t.Errorf("live %s final=%v expire_at=%v, want final without expiry yet", d.ID, d.Final, d.ExpireAt)
		}
	}

	// Expiry waits until every partition's checkpoint is past the window.
	start := live[0].WindowStart
	for p, through := range map[int32]time.Time{1: start.Add(time.Hour), 2: start} {
		if err := s.SaveCheckpoint(ctx, metricdoc.Checkpoint{Topic: "raw_events", Partition: p, Offset: 1, FinalizedHour: through}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.ScheduleLiveExpiry(ctx, "raw_events"); err != nil || n != 0 {
		t.Fatalf("ScheduleLiveExpiry with partition 2 behind = %d, %v; want 0", n, err)
	}
	if err := s.SaveCheckpoint(ctx, metricdoc.Checkpoint{Topic: "raw_events", Partition: 2, Offset: 2, FinalizedHour: start.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ScheduleLiveExpiry(ctx, "raw_events"); err != nil || n != 2 {
		t.Fatalf("ScheduleLiveExpiry = %d, %v; want 2", n, err)
	}
	marked, _ = s.GetLive(ctx, []string{live[0].ID, live[1].ID})
	for _, d := range marked {
		if d.ExpireAt == nil || !d.ExpireAt.Equal(now.Add(time.Hour)) {
			t.Errorf("live %s expire_at=%v, want now+grace", d.ID, d.ExpireAt)
		}
	}
}

func TestCheckpointOnlyMovesForward(t *testing.T) {
	s, _, _ := openStore(t, Options{})
	ctx := t.Context()
	if _, found, err := s.LoadCheckpoint(ctx, "raw_events", 3); found || err != nil {
		t.Fatalf("fresh checkpoint found=%v err=%v", found, err)
	}
	wm := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	cp := metricdoc.Checkpoint{Topic: "raw_events", Partition: 3, Offset: 50, Watermark: wm, Counted: 40, Duplicates: 10}
	if err := s.SaveCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	cp.Offset = 40
	if err := s.SaveCheckpoint(ctx, cp); !errors.Is(err, ErrStaleCheckpoint) {
		t.Fatalf("saving an older checkpoint: %v, want ErrStaleCheckpoint", err)
	}
	cp.Offset, cp.Counted = 60, 50
	if err := s.SaveCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.LoadCheckpoint(ctx, "raw_events", 3)
	if err != nil || !found || got.Offset != 60 || got.Counted != 50 || got.Duplicates != 10 || !got.Watermark.Equal(wm) {
		t.Fatalf("loaded %+v (found %v, %v)", got, found, err)
	}
}

func TestFreshnessOnlyMovesForward(t *testing.T) {
	s, _, _ := openStore(t, Options{})
	ctx := t.Context()
	t1 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t1, t1.Add(-time.Hour)} {
		if err := s.UpsertFreshness(ctx, []metricdoc.Freshness{{AppID: "app", Source: metricdoc.SourcePush, LastEventAt: at, LastIngest: at, UpdatedAt: at}}); err != nil {
			t.Fatal(err)
		}
	}
	var f metricdoc.Freshness
	if err := s.coll(metricdoc.CollFreshness).FindOne(ctx, bson.D{}).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if f.ID != "app|push" || !f.LastEventAt.Equal(t1) {
		t.Fatalf("freshness = %+v, want app|push at %v", f, t1)
	}
}
