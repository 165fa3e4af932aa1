package simulate

import (
	"container/heap"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// TrafficOptions shape the push traffic. Zero values take the defaults;
// shares are probabilities in [0, 1] per fresh event.
type TrafficOptions struct {
	// Start is the delivery time of the first event. Default defaultStart,
	// so that a seed alone fixes the traffic (Run starts at its clock's now).
	Start time.Time
	// Rate is the mean number of fresh events per second of simulated time
	// (Poisson arrivals). Duplicate copies come on top.
	Rate float64
	// InstallShare is the share of fresh events that are installs.
	InstallShare float64
	// DuplicateShare: the event is delivered a second time (a push retry)
	// 1 s..DuplicateDelay later.
	DuplicateShare float64
	// LateShare: the event is delivered MinLateness..MaxLateness after its
	// event time instead of within MaxDelay.
	LateShare float64
	// MalformedShare: the delivery is garbage (bad JSON, garbled time,
	// unknown platform or a missing field) and no event exists.
	MalformedShare float64
	// DropShare: the push never arrives (the Pusher skips it) but the event
	// exists, so a pull backfill recovers it.
	DropShare float64
	// MaxDelay is the normal gap between event time and delivery.
	MaxDelay time.Duration
	// MinLateness / MaxLateness bound late deliveries.
	MinLateness, MaxLateness time.Duration
	// DuplicateDelay bounds the gap between two copies.
	DuplicateDelay time.Duration
	// PriorUsers installed during the week before Start (their installs are
	// not part of the traffic) so in-app events have realistic install
	// gaps from the start.
	PriorUsers int
	// Users bounds the memory of users that generate in-app events: the
	// newest Users/4 (most in-app events follow the install within hours)
	// and a uniform sample of Users older ones (some come days later).
	Users int
}

// defaultStart is the Start of traffic whose options leave it zero.
var defaultStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// RegisterFlags registers the --sim.* settings of the traffic; the defaults
// written here are the only ones.
func (o *TrafficOptions) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&o.Rate, FlagRate, 50, "fresh events per second (Poisson); duplicates come on top")
	fs.Float64Var(&o.InstallShare, FlagInstallShare, 0.3, "share of fresh events that are installs, 0..1")
	fs.Float64Var(&o.DuplicateShare, FlagDuplicateShare, 0, "share of events pushed twice (push retry), 0..1")
	fs.Float64Var(&o.LateShare, FlagLateShare, 0, "share of events delivered --"+FlagLateMin+"..--"+FlagLateMax+" after their event time, 0..1")
	fs.Float64Var(&o.MalformedShare, FlagMalformedShare, 0, "share of malformed pushes (bad JSON, garbled time, unknown platform, missing field), 0..1")
	fs.Float64Var(&o.DropShare, FlagDropShare, 0, "share of events never pushed (only a pull backfill recovers them), 0..1")
	fs.DurationVar(&o.MaxDelay, FlagMaxDelay, 2*time.Second, "normal gap between event time and delivery")
	fs.DurationVar(&o.MinLateness, FlagLateMin, 2*time.Minute, "minimum lateness of late deliveries")
	fs.DurationVar(&o.MaxLateness, FlagLateMax, 3*time.Hour, "maximum lateness of late deliveries")
	fs.DurationVar(&o.DuplicateDelay, FlagDuplicateDelay, 30*time.Second, "longest gap between the two copies of a duplicated event")
	fs.IntVar(&o.PriorUsers, FlagPriorUsers, 2000, "users installed during the week before the traffic starts, so in-app events have realistic install gaps")
	fs.IntVar(&o.Users, FlagUsers, 20000, "users remembered for in-app events (the newest quarter and a sample of older ones)")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o TrafficOptions) WithDefaults() TrafficOptions {
	o = settings.WithDefaults(o, (*TrafficOptions).RegisterFlags)
	if o.Start.IsZero() {
		o.Start = defaultStart
	}
	return o
}

func (o *TrafficOptions) validate() error {
	for _, s := range []struct {
		name string
		v    float64
	}{{FlagInstallShare, o.InstallShare}, {FlagDuplicateShare, o.DuplicateShare}, {FlagLateShare, o.LateShare}, {FlagMalformedShare, o.MalformedShare}, {FlagDropShare, o.DropShare}} {
		if s.v < 0 || s.v > 1 || math.IsNaN(s.v) {
			return fmt.Errorf("%s %v: want a share in [0, 1]", s.name, s.v)
		}
	}
	switch {
	case o.Rate <= 0 || math.IsInf(o.Rate, 0) || math.IsNaN(o.Rate):
		return fmt.Errorf("%s %v: want > 0 events/s", FlagRate, o.Rate)
	case o.MaxDelay < 0:
		return fmt.Errorf("%s %v: want >= 0", FlagMaxDelay, o.MaxDelay)
	case o.MinLateness <= 0 || o.MaxLateness < o.MinLateness:
		return fmt.Errorf("%s/%s %v/%v: want 0 < min <= max", FlagLateMin, FlagLateMax, o.MinLateness, o.MaxLateness)
	case o.DuplicateDelay < time.Second:
		return fmt.Errorf("%s %v: want >= 1s", FlagDuplicateDelay, o.DuplicateDelay)
	case o.PriorUsers < 0 || o.Users < 4:
		return fmt.Errorf("%s/%s %d/%d: want >= 0 / >= 4", FlagPriorUsers, FlagUsers, o.PriorUsers, o.Users)
	}
	return nil
}

// Traffic generates the deliveries of the Push API in delivery-time order.
// Every valid event is recorded in the World as it is generated. It is
// deterministic for a world seed and options, and not safe for concurrent
// use (one goroutine drives it).
type Traffic struct {
	w      *World
	opts   TrafficOptions
	rng    *rand.Rand
	nextAt time.Time
	seq    int64
	evSeq  int64
	recent []*User // ring buffer, newest at head-1
	head   int
	sample []*User // reservoir sample of all users
	nUsers int64
	ids    map[uint64]struct{} // identities of recorded events: no accidental duplicates
	copies copyHeap
	stats  TrafficStats
	names  weighted
}

// TrafficStats counts what Traffic produced so far.
type TrafficStats struct {
	Deliveries int64 // everything Next returned
	Events     int64 // valid events recorded in the World
	Installs   int64
	Duplicates int64 // extra copies
	Late       int64
	Malformed  int64
	Dropped    int64
}

// Traffic starts a delivery stream. Each World should have one stream: two
// streams would record overlapping events.
func (w *World) Traffic(opts TrafficOptions) (*Traffic, error) {
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	t := &Traffic{
		w:      w,
		opts:   opts,
		rng:    rand.New(rand.NewPCG(uint64(w.Seed), 0x74726166)),
		nextAt: opts.Start.UTC(),
		ids:    map[uint64]struct{}{},
	}
	for _, ev := range inAppEvents {
		t.names.add(ev.Weight)
	}
	const week = 7 * 24 * time.Hour
	for i := range opts.PriorUsers {
		// Evenly spread, oldest first, so "recent" in the ring means recent.
		at := opts.Start.Add(-week + time.Duration(i)*week/time.Duration(opts.PriorUsers)).Add(time.Duration(t.rng.IntN(1000)) * time.Millisecond)
		t.addUser(newUser(t.rng, w.Apps[w.appPick.pick(t.rng)], at.UTC().Truncate(time.Millisecond)))
	}
	return t, nil
}

// Stats returns the counts so far.
func (t *Traffic) Stats() TrafficStats { return t.stats }

// Next returns the next delivery.
func (t *Traffic) Next() Delivery {
	var d Delivery
	if len(t.copies) > 0 && !t.copies[0].At.After(t.nextAt) {
		d = heap.Pop(&t.copies).(Delivery)
	} else {
		d = t.fresh()
	}
	d.Seq = t.seq
	t.seq++
	t.stats.Deliveries++
	return d
}

// Take returns the next n deliveries.
func (t *Traffic) Take(n int) []Delivery {
	out := make([]Delivery, n)
	for i := range out {
		out[i] = t.Next()
	}
	return out
}

// Until returns the deliveries due before end.
func (t *Traffic) Until(end time.Time) []Delivery {
	var out []Delivery
	for t.peekAt().Before(end) {
		out = append(out, t.Next())
	}
	return out
}

func (t *Traffic) peekAt() time.Time {
	if len(t.copies) > 0 && !t.copies[0].At.After(t.nextAt) {
		return t.copies[0].At
	}
	return t.nextAt
}

func (t *Traffic) fresh() Delivery {
	at := t.nextAt
	gap := t.rng.ExpFloat64() / t.opts.Rate
	t.nextAt = at.Add(time.Duration(gap * float64(time.Second)))

	if t.rng.Float64() < t.opts.MalformedShare {
		ev, _ := t.makeEvent(at, false)
		t.stats.Malformed++
		return malformed(t.rng, at, ev)
	}
	ev, late := t.makeEvent(at, t.rng.Float64() < t.opts.LateShare)
	t.w.store.add(ev)
	t.stats.Events++
	if ev.IsInstall() {
		t.stats.Installs++
	}
	d := Delivery{At: at, Event: ev, Late: late}
	if late {
		t.stats.Late++
	}
	switch r := t.rng.Float64(); {
	case r < t.opts.DropShare:
		d.Dropped = true
		t.stats.Dropped++
	case r < t.opts.DropShare+t.opts.DuplicateShare*(1-t.opts.DropShare):
		c := d
		c.Duplicate = true
		c.At = at.Add(time.Second + time.Duration(t.rng.Int64N(int64(t.opts.DuplicateDelay-time.Second)+1)))
		heap.Push(&t.copies, c)
		t.stats.Duplicates++
	}
	return d
}

// makeEvent creates an event delivered at at; a late one has its event time
// MinLateness..MaxLateness earlier. In-app events never precede their
// user's install: when they would, the event becomes an install.
func (t *Traffic) makeEvent(at time.Time, late bool) (*Event, bool) {
	delay := time.Duration(t.rng.Int64N(int64(t.opts.MaxDelay) + 1))
	if late {
		delay = t.opts.MinLateness + time.Duration(t.rng.Int64N(int64(t.opts.MaxLateness-t.opts.MinLateness)+1))
	}
	evTime := at.Add(-delay)
	var ev *Event
	if t.rng.Float64() >= t.opts.InstallShare && len(t.recent) > 0 {
		if u := t.pickUser(); evTime.After(u.InstallTime.Add(time.Second)) {
			ie := inAppEvents[t.names.pick(t.rng)]
			ev = newEvent(t.rng, u, ie.Name, evTime, ie.Revenue)
			if t.taken(ev) {
				ev = nil
			}
		}
	}
	if ev == nil {
		u := newUser(t.rng, t.w.Apps[t.w.appPick.pick(t.rng)], evTime.UTC().Truncate(time.Millisecond))
		t.addUser(u)
		ev = newEvent(t.rng, u, "install", u.InstallTime, false)
		t.taken(ev)
	}
	t.evSeq++
	ev.seq = t.evSeq
	return ev, late
}

// pickUser returns a user for an in-app event: three times out of four a
// recent one (skewed to the newest), otherwise one from the long-term
// sample, so install-to-event gaps range from seconds to days.
func (t *Traffic) pickUser() *User {
	if len(t.sample) > 0 && t.rng.IntN(4) == 0 {
		return t.sample[t.rng.IntN(len(t.sample))]
	}
	n := len(t.recent)
	k := int(float64(n) * math.Pow(t.rng.Float64(), 2))
	return t.recent[((t.head-1-k)%n+n)%n]
}

func (t *Traffic) addUser(u *User) {
	ringCap := t.opts.Users / 4
	if len(t.recent) < ringCap {
		t.recent = append(t.recent, u)
		t.head = len(t.recent) % ringCap
	} else {
		t.recent[t.head] = u
		t.head = (t.head + 1) % ringCap
	}
	t.nUsers++
	if len(t.sample) < t.opts.Users {
		t.sample = append(t.sample, u)
	} else if j := t.rng.Int64N(t.nUsers); j < int64(len(t.sample)) {
		t.sample[j] = u
	}
}

// taken records the identity of ev and reports whether an earlier event
// already had it (same user, name and second): such an event would be
// counted once, so the generator avoids it instead.
func (t *Traffic) taken(ev *Event) bool {
	e := event.Event{AppID: ev.User.App.ID, AppsFlyerID: ev.User.AppsFlyerID, EventName: ev.Name, Time: ev.Time}
	id := e.Identity()
	if _, ok := t.ids[id]; ok {
		return true
	}
	t.ids[id] = struct{}{}
	return false
}

// copyHeap orders pending duplicate copies by delivery time, then sequence.
type copyHeap []Delivery

func (h copyHeap) Len() int { return len(h) }
func (h copyHeap) Less(i, j int) bool {
	if !h[i].At.Equal(h[j].At) {
		return h[i].At.Before(h[j].At)
	}
	return h[i].Event.seq < h[j].Event.seq
}
func (h copyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *copyHeap) Push(x any)   { *h = append(*h, x.(Delivery)) }
func (h *copyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
