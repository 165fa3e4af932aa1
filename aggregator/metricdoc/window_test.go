package metricdoc

import (
	"testing"
	"time"
)

func TestWindowBoundaries(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	tests := []struct {
		name      string
		g         Granularity
		at        string // RFC 3339
		loc       *time.Location
		wantStart string
		wantEnd   string
	}{
		{"utc hour", Hour, "2026-03-29T10:59:59Z", time.UTC, "2026-03-29T10:00:00Z", "2026-03-29T11:00:00Z"},
		{"half-hour zone hour", Hour, "2026-03-29T10:10:00Z", kolkata, "2026-03-29T09:30:00Z", "2026-03-29T10:30:00Z"},
		{"utc day", Day, "2026-03-29T23:59:59Z", time.UTC, "2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"},
		{"paris spring-forward day is 23h", Day, "2026-03-29T12:00:00Z", paris, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"},
		{"paris fall-back day is 25h", Day, "2026-10-25T12:00:00Z", paris, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"},
		{"paris local midnight belongs to new day", Day, "2026-06-30T22:00:00Z", paris, "2026-06-30T22:00:00Z", "2026-07-01T22:00:00Z"},
		{"paris repeated hour stays one hour", Hour, "2026-10-25T01:30:00Z", paris, "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tt.at)
			start := WindowStart(tt.g, at, tt.loc)
			end := WindowEnd(tt.g, start, tt.loc)
			if got := start.UTC().Format(time.RFC3339); got != tt.wantStart {
				t.Errorf("start = %s, want %s", got, tt.wantStart)
			}
			if got := end.UTC().Format(time.RFC3339); got != tt.wantEnd {
				t.Errorf("end = %s, want %s", got, tt.wantEnd)
			}
			if at.Before(start) || !at.Before(end) {
				t.Errorf("%s not in [%s, %s)", at, start, end)
			}
		})
	}
}

func TestLiveIDIsDeterministicAndDistinct(t *testing.T) {
	w := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := Meta{AppID: "id1", MediaSource: "Facebook Ads", Campaign: "c1", Platform: "ios", EventName: "install"}
	a := LiveID(Hour, w, m, 3)
	if a != LiveID(Hour, w, m, 3) {
		t.Fatal("LiveID not deterministic")
	}
	seen := map[string]bool{a: true}
	for _, id := range []string{LiveID(Day, w, m, 3), LiveID(Hour, w.Add(time.Hour), m, 3), LiveID(Hour, w, m, 4)} {
		if seen[id] {
			t.Fatalf("collision on %q", id)
		}
		seen[id] = true
	}
	u := Update{Granularity: Hour, WindowStart: w, Meta: m, Partition: 3}
	if want := LiveID(Hour, w, m, 0); u.Key()+"|p0" != want {
		t.Fatalf("Key %q is not the partition-free LiveID of %q", u.Key(), want)
	}
}

func TestFinalizedThroughIsTheMinimumOverPartitions(t *testing.T) {
	h := func(n int) time.Time { return time.Date(2026, 11, 26, n, 0, 0, 0, time.UTC) }
	cps := []Checkpoint{
		{FinalizedHour: h(5), FinalizedDay: h(0)},
		{FinalizedHour: h(3), FinalizedDay: h(0).Add(24 * time.Hour)},
		{FinalizedHour: h(7), FinalizedDay: h(0)},
	}
	if got := FinalizedThrough(cps, Hour); !got.Equal(h(3)) {
		t.Errorf("hour: %s, want %s", got, h(3))
	}
	if got := FinalizedThrough(cps, Day); !got.Equal(h(0)) {
		t.Errorf("day: %s, want %s", got, h(0))
	}
	if got := FinalizedThrough(nil, Hour); !got.IsZero() {
		t.Errorf("no checkpoints: %s, want zero", got)
	}
}
