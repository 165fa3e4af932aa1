package clock

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a done context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), -time.Second); err != nil {
		t.Fatalf("Sleep(-1s) = %v, want nil without waiting", err)
	}
}

// TestSleepWaitsOnTheWallClock runs in a synctest bubble, whose fake clock
// moves only when every goroutine waits: an hour passes at once, and
// exactly an hour.
func TestSleepWaitsOnTheWallClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := Sleep(context.Background(), time.Hour); err != nil {
			t.Fatalf("Sleep(1h) = %v", err)
		}
		if got := time.Since(start); got != time.Hour {
			t.Fatalf("Sleep(1h) returned after %v", got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Sleep(1h) with a 1m deadline = %v", err)
		}
		if got := time.Since(start); got != time.Hour+time.Minute {
			t.Fatalf("the cut-short sleep returned at %v, want 1h1m", got)
		}
	})
}

func TestVirtualJumpsAndRecords(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	c := NewVirtual(t0)
	for _, d := range []time.Duration{time.Hour, 0, -time.Minute, 10 * time.Minute} {
		if err := c.Sleep(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := c.Now(), t0.Add(70*time.Minute); !got.Equal(want) {
		t.Fatalf("Now after the waits = %v, want %v (only positive waits move it)", got, want)
	}
	if got, want := c.Waits(), []time.Duration{time.Hour, 0, -time.Minute, 10 * time.Minute}; !slices.Equal(got, want) {
		t.Fatalf("Waits = %v, want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil || len(c.Waits()) != 4 {
		t.Fatalf("Sleep on a done context = %v with %d waits, want an error and no record", err, len(c.Waits()))
	}
	c.Set(t0)
	c.Advance(time.Second)
	if got := c.Now(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("Now after Set and Advance = %v", got)
	}
}

func TestSteppingMovesOnEveryLook(t *testing.T) {
	c := NewStepping(time.Unix(0, 0), time.Second)
	if a, b := c.Now(), c.Now(); a.Unix() != 1 || b.Unix() != 2 {
		t.Fatalf("two looks = %v, %v; want 1s and 2s after the epoch", a.Unix(), b.Unix())
	}
}
