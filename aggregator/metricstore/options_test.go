package metricstore

import (
	"flag"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// TestZeroLiveGraceMeansNone: --mongo.live-grace 0 (or off) is documented as
// "removed at the next expiry"; it must not turn into the 48 h default. A
// finalized window's live copy then expires as soon as every partition's
// checkpoint is past it, and the next Expire removes it.
func TestZeroLiveGraceMeansNone(t *testing.T) {
	for _, arg := range []string{"0", "off"} {
		var o Options
		fs := flag.NewFlagSet("store", flag.ContinueOnError)
		o.RegisterFlags(fs)
		if err := fs.Parse([]string{"--" + FlagLiveGrace, arg}); err != nil {
			t.Fatal(err)
		}
		if o = o.WithDefaults(); o.LiveGrace != settings.Off {
			t.Fatalf("--%s %s = %s, want off", FlagLiveGrace, arg, o.LiveGrace)
		}
		if err := o.validate(); err != nil {
			t.Fatalf("--%s %s: %v", FlagLiveGrace, arg, err)
		}
	}
	if d := (Options{}).WithDefaults(); d.LiveGrace != 48*time.Hour {
		t.Fatalf("default live grace %s, want 48h", d.LiveGrace)
	}
	if neg := (Options{LiveGrace: -time.Hour}).WithDefaults(); neg.validate() == nil {
		t.Fatal("a negative live grace other than off was accepted")
	}

	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	clk := clock.NewVirtual(start)
	s, _, _ := openStore(t, Options{LiveGrace: settings.Off, Now: clk.Now})
	ctx := t.Context()
	d := liveDoc(0, "a", 3, 10)
	if _, err := s.WriteLive(ctx, []metricdoc.Live{d}); err != nil {
		t.Fatal(err)
	}
	if err := s.Finalize(ctx, metricdoc.Hour, []metricdoc.Final{{WindowStart: d.WindowStart, Meta: d.Meta, Partition: d.Partition, Totals: d.Totals}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, metricdoc.Checkpoint{Topic: "raw_events", Partition: 0, Offset: 11, FinalizedHour: d.WindowEnd}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ScheduleLiveExpiry(ctx, "raw_events"); err != nil || n != 1 {
		t.Fatalf("ScheduleLiveExpiry = %d, %v; want 1", n, err)
	}
	got, err := s.GetLive(ctx, []string{d.ID})
	if err != nil || len(got) != 1 || got[0].ExpireAt == nil || !got[0].ExpireAt.Equal(start) {
		t.Fatalf("live %s after scheduling = %+v, %v; want expire_at = now", d.ID, got, err)
	}
	clk.Advance(time.Millisecond)
	if _, err := s.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetLive(ctx, []string{d.ID}); err != nil || len(got) != 0 {
		t.Fatalf("live %s a moment later = %+v, %v; want removed", d.ID, got, err)
	}
}
