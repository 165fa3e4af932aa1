package brokerfault

import (
	"fmt"
	"slices"
	"sync"
)

// Ledger records what a producer was told about each write, keyed by a unique id per record.
// Ack and Fail are called from produce callbacks, so it is safe for concurrent use.
type Ledger struct {
	mu     sync.Mutex
	sent   map[int64]bool
	acked  map[int64]bool
	failed map[int64]bool
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{sent: map[int64]bool{}, acked: map[int64]bool{}, failed: map[int64]bool{}}
}

// Sent notes that id was handed to the producer.
func (l *Ledger) Sent(id int64) { l.mu.Lock(); l.sent[id] = true; l.mu.Unlock() }

// Ack notes that the broker acknowledged id: it must be readable from now on.
func (l *Ledger) Ack(id int64) { l.mu.Lock(); l.acked[id] = true; l.mu.Unlock() }

// Fail notes that the producer gave up on id: it may or may not have been written.
func (l *Ledger) Fail(id int64) { l.mu.Lock(); l.failed[id] = true; l.mu.Unlock() }

// Verdict compares a ledger with what a consumer read.
type Verdict struct {
	Produced   int     // handed to the producer
	Acked      int     // acknowledged by the broker
	Unacked    int     // failed or never answered: may be present at most once
	Read       int     // distinct ids read back
	Lost       int     // acknowledged but not read: a lost write
	Duplicated int     // read more than once
	Phantom    int     // read but never produced
	Examples   []int64 // a few offending ids, for the failure message
}

// Check compares the ledger with read (id -> times read).
func (l *Ledger) Check(read map[int64]int) Verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := Verdict{Produced: len(l.sent), Acked: len(l.acked), Read: len(read)}
	v.Unacked = v.Produced - v.Acked
	note := func(id int64) {
		if len(v.Examples) < 10 {
			v.Examples = append(v.Examples, id)
		}
	}
	for id := range l.acked {
		if read[id] == 0 {
			v.Lost++
			note(id)
		}
	}
	for id, n := range read {
		if n > 1 {
			v.Duplicated++
			note(id)
		}
		if !l.sent[id] {
			v.Phantom++
			note(id)
		}
	}
	slices.Sort(v.Examples)
	return v
}

// OK reports whether the promise held: nothing acknowledged was lost, nothing was read twice and
// nothing appeared that was never sent.
func (v Verdict) OK() bool { return v.Lost == 0 && v.Duplicated == 0 && v.Phantom == 0 }

// Summary is the one-line result the fault suite prints per scenario.
func (v Verdict) Summary(scenario string) string {
	return fmt.Sprintf("scenario %s: produced=%d acked=%d unacked=%d read=%d lost=%d duplicated=%d phantom=%d",
		scenario, v.Produced, v.Acked, v.Unacked, v.Read, v.Lost, v.Duplicated, v.Phantom)
}
