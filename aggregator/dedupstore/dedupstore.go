// Package dedupstore keeps the event identities the aggregator's
// de-duplication must remember for the correction horizon, with memory
// bounded by configuration instead of by rate x horizon: the recent hours
// of each partition stay in Go maps (the hot part, where nearly every
// event lands), older hours are spilled to a local Pebble store whose
// memory is its block cache and memtables.
//
// The store is a cache of state that lives elsewhere (the changelog topic
// and the checkpoints): it has no write-ahead log and is wiped when opened.
package dedupstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options bound the store's memory.
type Options struct {
	// Dir holds the Pebble files; its contents are removed on Open.
	Dir string
	// HotIdentities is how many identities all partitions together keep in
	// memory (about 40 bytes each); beyond it a partition spills its oldest
	// hour. Default 2,000,000.
	HotIdentities int
	// CacheBytes is Pebble's block cache. Default 32 MiB.
	CacheBytes int64
	// MemTableBytes is the size of one Pebble memtable (up to two are kept).
	// Default 16 MiB.
	MemTableBytes uint64
}

func (o *Options) setDefaults() {
	if o.HotIdentities <= 0 {
		o.HotIdentities = 2_000_000
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = 32 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 16 << 20
	}
}

// Store is one process's spill store, shared by its partitions' sets. Each
// Set belongs to one goroutine at a time, but different sets may be used
// at once: what they share is Pebble (safe for concurrent use) and two
// atomic counters.
type Store struct {
	db   *pebble.DB
	opts Options
	// hot is the identities in memory across all sets, as far as the sets
	// have told it: a set adds its new identities in steps of hotStep, so
	// that sets counting in parallel do not write one cache line per event.
	hot  atomic.Int64
	slot atomic.Uint32 // last set's key prefix
}

// hotStep is how many new in-memory identities a set gathers before it
// adds them to the shared count and checks the budget: memory may exceed
// HotIdentities by less than hotStep identities per set.
const hotStep = 64

// keyLen: set slot (4) | hour (8, sign-flipped big endian) | identity (8).
// Each set has its own slot, so a partition reloaded in this process never
// sees (or deletes) the identities of the set it replaces.
const keyLen = 20

// Open wipes dir and opens an empty store there.
func Open(opts Options) (*Store, error) {
	opts.setDefaults()
	if opts.Dir == "" {
		return nil, errors.New("dedupstore: Dir is required")
	}
	if err := os.RemoveAll(opts.Dir); err != nil {
		return nil, fmt.Errorf("dedupstore: clear %s: %w", opts.Dir, err)
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:                       cache,
		DisableWAL:                  true,
		FS:                          noSyncFS{vfs.Default},
		MemTableSize:                opts.MemTableBytes,
		MemTableStopWritesThreshold: 4,
		Logger:                      quietLogger{},
	}
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("dedupstore: open %s: %w", opts.Dir, err)
	}
	return &Store{db: db, opts: opts}, nil
}

// Close closes the store; its files are left for the next Open to wipe.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("dedupstore: close: %w", err)
	}
	return nil
}

// DiskBytes is the size of the store's files.
func (s *Store) DiskBytes() uint64 { return s.db.Metrics().DiskSpaceUsage() }

// Hot is the number of identities held in memory by all sets, short of
// fewer than hotStep per set not yet added to the count.
func (s *Store) Hot() int { return int(s.hot.Load()) }

// keyOf fills the set's key buffer; the caller copies it or is done with it
// before the next call.
func (d *Set) keyOf(hour int64, id uint64) []byte {
	binary.BigEndian.PutUint32(d.key[0:4], d.slot)
	binary.BigEndian.PutUint64(d.key[4:12], uint64(hour)^(1<<63))
	binary.BigEndian.PutUint64(d.key[12:20], id)
	return d.key[:]
}

// Set is one partition's identities, by the hour of their event time: a
// copy of an event has the same identity and event second, so it is looked
// up in one hour only, and pruning drops whole hours.
//
// A Set is not safe for concurrent use; sets of one store may be used by
// different goroutines at once.
type Set struct {
	s     *Store
	slot  uint32
	hot   map[int64]map[uint64]struct{}
	cold  map[int64]int // spilled hours and their identity counts
	n     int
	hotN  int // identities in hot
	unpub int // of hotN, not yet added to the store's count
	key   [keyLen]byte
}

// NewSet returns an empty set (for one partition).
func (s *Store) NewSet() *Set {
	return &Set{s: s, slot: s.slot.Add(1), hot: make(map[int64]map[uint64]struct{}), cold: make(map[int64]int)}
}

// addHot counts a new in-memory identity and, every hotStep of them, adds
// them to the store's count and spills when all sets are over the budget.
func (d *Set) addHot() error {
	d.n++
	d.hotN++
	d.unpub++
	if d.unpub < hotStep {
		return nil
	}
	if d.publish() > int64(d.s.opts.HotIdentities) {
		return d.spill()
	}
	return nil
}

// publish adds the set's uncounted identities to the store's count and
// returns the new count.
func (d *Set) publish() int64 {
	n := d.s.hot.Add(int64(d.unpub))
	d.unpub = 0
	return n
}

// dropHot removes n of the set's in-memory identities from both counts.
func (d *Set) dropHot(n int) {
	d.publish()
	d.hotN -= n
	d.s.hot.Add(-int64(n))
}

// Add records id for an event at unix second sec and reports whether it
// was already present.
func (d *Set) Add(id uint64, sec int64) (seen bool, err error) {
	h := Hour(sec)
	if b, ok := d.hot[h]; ok {
		if _, ok := b[id]; ok {
			return true, nil
		}
		b[id] = struct{}{}
		return false, d.addHot()
	}
	if _, ok := d.cold[h]; ok {
		return d.addCold(h, id)
	}
	d.hot[h] = map[uint64]struct{}{id: {}}
	return false, d.addHot()
}

func (d *Set) addCold(h int64, id uint64) (bool, error) {
	k := d.keyOf(h, id)
	_, closer, err := d.s.db.Get(k)
	switch {
	case err == nil:
		closer.Close()
		return true, nil
	case !errors.Is(err, pebble.ErrNotFound):
		return false, fmt.Errorf("dedupstore: get: %w", err)
	}
	if err := d.s.db.Set(k, nil, pebble.NoSync); err != nil {
		return false, fmt.Errorf("dedupstore: set: %w", err)
	}
	d.cold[h]++
	d.n++
	return false, nil
}

// spill moves this set's oldest hot hour to the store (the newest one too,
// when it is all the set holds and memory is over budget).
func (d *Set) spill() error {
	if len(d.hot) == 0 {
		return nil
	}
	h := slices.Min(slicesKeys(d.hot))
	b := d.hot[h]
	ids := make([]uint64, 0, len(b))
	for id := range b {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	batch := d.s.db.NewBatch()
	for _, id := range ids {
		if err := batch.Set(d.keyOf(h, id), nil, nil); err != nil {
			batch.Close()
			return fmt.Errorf("dedupstore: spill: %w", err)
		}
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("dedupstore: spill: %w", err)
	}
	delete(d.hot, h)
	d.cold[h] += len(ids)
	d.dropHot(len(ids))
	return nil
}

func slicesKeys(m map[int64]map[uint64]struct{}) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Prune forgets identities whose whole event hour is before cutoffSec.
func (d *Set) Prune(cutoffSec int64) error {
	for h, b := range d.hot {
		if (h+1)*3600 <= cutoffSec {
			d.n -= len(b)
			d.dropHot(len(b))
			delete(d.hot, h)
		}
	}
	lo, hi := int64(1<<62), int64(-1<<62)
	for h, n := range d.cold {
		if (h+1)*3600 <= cutoffSec {
			d.n -= n
			delete(d.cold, h)
			lo, hi = min(lo, h), max(hi, h)
		}
	}
	if lo <= hi {
		return d.deleteHours(lo, hi+1)
	}
	return nil
}

// Close releases the set's memory and deletes its spilled identities.
func (d *Set) Close() error {
	d.dropHot(d.hotN)
	cold := len(d.cold) > 0
	d.hot, d.cold, d.n = nil, nil, 0
	if !cold {
		return nil
	}
	return d.deleteHours(-1<<62, 1<<62)
}

func (d *Set) deleteHours(from, to int64) error {
	start := append([]byte(nil), d.keyOf(from, 0)...)
	end := append([]byte(nil), d.keyOf(to, 0)...)
	if err := d.s.db.DeleteRange(start, end, pebble.NoSync); err != nil {
		return fmt.Errorf("dedupstore: delete hours [%d, %d): %w", from, to, err)
	}
	return nil
}

// Len is the number of identities in the set.
func (d *Set) Len() int { return d.n }

// Cold is the number of identities of the set in the store.
func (d *Set) Cold() int { return d.n - d.hotN }

// Hour is the bucket an identity of an event at unix second sec is kept
// and pruned in: its hour since the epoch, rounded down (also before 1970).
// The aggregator's in-memory sets and its changelog entries use it too, so
// every copy of a partition's identities agrees on what one prune removes.
func Hour(sec int64) int64 {
	q := sec / 3600
	if sec%3600 != 0 && sec < 0 {
		q--
	}
	return q
}

// quietLogger drops Pebble's informational logging; errors surface as
// returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// noSyncFS skips every fsync: the store is wiped at start and rebuilt from
// the changelog, so durability buys nothing, and on a busy disk a flush's
// fsync stalls the poll loop that adds identities.
type noSyncFS struct{ vfs.FS }

func (fs noSyncFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return wrapNoSync(f, err)
}

func (fs noSyncFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, opts...)
	return wrapNoSync(f, err)
}

func (fs noSyncFS) OpenDir(name string) (vfs.File, error) {
	f, err := fs.FS.OpenDir(name)
	return wrapNoSync(f, err)
}

func (fs noSyncFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return wrapNoSync(f, err)
}

func wrapNoSync(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

type noSyncFile struct{ vfs.File }

func (noSyncFile) Sync() error                             { return nil }
func (noSyncFile) SyncData() error                         { return nil }
func (noSyncFile) SyncTo(int64) (fullSync bool, err error) { return true, nil }
