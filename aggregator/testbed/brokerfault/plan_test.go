package brokerfault

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestPlanCoversEveryFaultBeforeRepeating(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want int
	}{
		{"defaults", Options{}, 3},
		{"seven of three kinds", Options{Count: 7, Seed: 42}, 7},
		{"kill only", Options{Faults: []Fault{Kill}, Count: 4}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Plan(tc.opts)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if len(plan) != tc.want {
				t.Fatalf("len(plan) = %d, want %d", len(plan), tc.want)
			}
			kinds := tc.opts.Faults
			if len(kinds) == 0 {
				kinds = []Fault{Kill, Stop, Pause}
			}
			for start := 0; start+len(kinds) <= len(plan); start += len(kinds) {
				round := slices.Clone(plan[start : start+len(kinds)])
				slices.Sort(round)
				want := slices.Clone(kinds)
				slices.Sort(want)
				if !slices.Equal(round, want) {
					t.Fatalf("round %v of plan %v does not use every fault once", plan[start:start+len(kinds)], plan)
				}
			}
			again, _ := Plan(tc.opts)
			if !slices.Equal(plan, again) {
				t.Fatalf("same seed, different plans: %v vs %v", plan, again)
			}
		})
	}
}

func TestPlanSeedsDiffer(t *testing.T) {
	a, _ := Plan(Options{Count: 12, Seed: 1})
	b, _ := Plan(Options{Count: 12, Seed: 2})
	if slices.Equal(a, b) {
		t.Fatalf("seeds 1 and 2 give the same 12-fault plan %v", a)
	}
}

func TestPlanRejectsBadOptions(t *testing.T) {
	cases := map[string]Options{
		FlagFaults: {Faults: []Fault{"reboot"}},
		FlagCount:  {Count: -1},
		FlagGap:    {Gap: -1},
	}
	for want, o := range cases {
		if _, err := Plan(o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Plan(%+v) error = %v, want it to name %s", o, err, want)
		}
	}
}

func TestLedgerVerdict(t *testing.T) {
	l := NewLedger()
	for id := range int64(6) {
		l.Sent(id)
	}
	l.Ack(0)
	l.Ack(1)
	l.Ack(2) // lost below
	l.Fail(3)
	l.Ack(4) // duplicated below
	// 5 never answered
	read := map[int64]int{0: 1, 1: 1, 3: 1, 4: 2, 99: 1}
	v := l.Check(read)
	want := Verdict{Produced: 6, Acked: 4, Unacked: 2, Read: 5, Lost: 1, Duplicated: 1, Phantom: 1, Examples: []int64{2, 4, 99}}
	if v.Produced != want.Produced || v.Acked != want.Acked || v.Unacked != want.Unacked || v.Read != want.Read ||
		v.Lost != want.Lost || v.Duplicated != want.Duplicated || v.Phantom != want.Phantom || !slices.Equal(v.Examples, want.Examples) {
		t.Fatalf("verdict = %+v, want %+v", v, want)
	}
	if v.OK() {
		t.Fatal("verdict with a lost write is OK")
	}
	if got := v.Summary("x"); got != "scenario x: produced=6 acked=4 unacked=2 read=5 lost=1 duplicated=1 phantom=1" {
		t.Fatalf("summary = %q", got)
	}
	clean := l.Check(map[int64]int{0: 1, 1: 1, 2: 1, 4: 1})
	if !clean.OK() {
		t.Fatalf("unacked ids 3 and 5 absent should be OK: %+v", clean)
	}
}

func TestFaultKindsFlag(t *testing.T) {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	var o Options
	o.RegisterFlags(fs)
	if got := fs.Lookup(FlagFaults).DefValue; got != "kill,stop,pause" {
		t.Fatalf("default kinds %q", got)
	}
	if err := fs.Parse([]string{"--" + FlagFaults, "kill, pause", "--" + FlagCount, "6"}); err != nil {
		t.Fatal(err)
	}
	plan, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 6 || slices.Contains(plan, Stop) || !slices.Contains(plan, Kill) || !slices.Contains(plan, Pause) {
		t.Fatalf("plan %v, want 6 faults of kill and pause only", plan)
	}
	if err := fs.Parse([]string{"--" + FlagFaults, "reboot"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Plan(o); err == nil || !strings.Contains(err.Error(), FlagFaults) {
		t.Fatalf("unknown kind: %v, want an error naming %s", err, FlagFaults)
	}
}
