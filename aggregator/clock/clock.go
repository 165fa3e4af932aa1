// Package clock is how components take time. Every component that reads the
// time has a field Now func() time.Time (nil means time.Now); one that waits
// minutes or hours for a schedule, a quota reset or a retry also has a field
// Sleep func(ctx context.Context, d time.Duration) error (nil means Sleep
// below). Plain funcs keep the default the standard library's own and let a
// test hand in the two methods of one Virtual clock.
//
// testing/synctest would make both fields unnecessary, but its fake time
// only moves when every goroutine in the bubble is blocked on something
// other than I/O, and the tests that move time here talk to real peers
// over sockets (kfake, FerretDB, httptest servers), so they use Virtual.
package clock

import (
	"context"
	"sync"
	"time"
)

// Sleep waits for d on the wall clock, returning early with ctx's error.
// A d <= 0 does not wait.
func Sleep(ctx context.Context, d time.Duration) error {
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

// Virtual is a clock that jumps instead of sleeping and remembers every
// wait, so a wait of hours takes no time and its length can be checked.
// Its methods are safe for concurrent use; the zero value stands at the
// zero time.
type Virtual struct {
	mu    sync.Mutex
	now   time.Time
	step  time.Duration
	waits []time.Duration
}

// NewVirtual returns a virtual clock standing at t.
func NewVirtual(t time.Time) *Virtual { return &Virtual{now: t} }

// NewStepping returns a virtual clock that moves forward by step on each
// call of Now, the first call returning start+step: a component that looks
// at the clock sees time pass between any two looks.
func NewStepping(start time.Time, step time.Duration) *Virtual {
	return &Virtual{now: start, step: step}
}

// Now returns the clock's time (after the step, for a stepping clock).
func (c *Virtual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

// Sleep records d and moves the clock forward by it at once (a d <= 0 is
// recorded and moves nothing). It returns ctx's error if ctx is done.
func (c *Virtual) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return nil
}

// Set puts the clock at t.
func (c *Virtual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d.
func (c *Virtual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Waits returns every d passed to Sleep, in order.
func (c *Virtual) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}
