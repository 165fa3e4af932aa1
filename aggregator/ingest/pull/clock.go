package pull

import (
	"context"
	"time"
)

// Clock is the poller's time: when windows are due and how long quota
// resets are away. Tests inject a virtual clock so nothing sleeps.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, returning early with ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d or ctx.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
