package dedupstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSetMatchesAMap drives two partitions' sets with a hot budget small
// enough that most hours spill, and checks every answer, the counts and
// pruning against plain maps.
func TestSetMatchesAMap(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), HotIdentities: 500})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	type key struct {
		h  int64
		id uint64
	}
	sets := make([]*Set, 2)
	refs := make([]map[key]bool, 2)
	for p := range sets {
		sets[p] = s.NewSet()
		refs[p] = map[key]bool{}
	}
	base := int64(1_795_000_000)
	for i := range 20000 {
		p := rng.IntN(2)
		// Mostly recent hours, some late ones, a tenth repeats.
		sec := base + int64(i)*2 - rng.Int64N(6*3600)
		id := rng.Uint64() % 5000
		k := key{Hour(sec), id}
		seen, err := sets[p].Add(id, sec)
		if err != nil {
			t.Fatal(err)
		}
		if seen != refs[p][k] {
			t.Fatalf("add %d: partition %d hour %d id %d: seen=%v, want %v", i, p, k.h, id, seen, refs[p][k])
		}
		refs[p][k] = true
	}
	if s.Hot() > 500+1 {
		t.Fatalf("%d identities in memory, budget 500", s.Hot())
	}
	for p, d := range sets {
		if d.Len() != len(refs[p]) || d.Cold() == 0 {
			t.Fatalf("partition %d: len %d cold %d, want %d with some spilled", p, d.Len(), d.Cold(), len(refs[p]))
		}
	}
	cut := base + 6*3600
	if err := sets[0].Prune(cut); err != nil {
		t.Fatal(err)
	}
	want := 0
	for k := range refs[0] {
		if (k.h+1)*3600 > cut {
			want++
		}
	}
	if sets[0].Len() != want {
		t.Fatalf("after prune: %d identities, want %d", sets[0].Len(), want)
	}
	// A pruned identity is new again; a kept one is still seen.
	for k := range refs[0] {
		seen, err := sets[0].Add(k.id, k.h*3600)
		if err != nil {
			t.Fatal(err)
		}
		if kept := (k.h+1)*3600 > cut; seen != kept {
			t.Fatalf("hour %d id %d after prune: seen=%v, want %v", k.h, k.id, seen, kept)
		}
	}
	// A set replacing partition 1's starts empty; closing the old one
	// leaves the new one intact.
	d := s.NewSet()
	for k := range refs[1] {
		if seen, _ := d.Add(k.id, k.h*3600); seen {
			t.Fatalf("a new set remembered hour %d id %d", k.h, k.id)
		}
		if err := sets[1].Close(); err != nil {
			t.Fatal(err)
		}
		if seen, _ := d.Add(k.id, k.h*3600); !seen {
			t.Fatalf("the new set forgot hour %d id %d when the old one closed", k.h, k.id)
		}
		break
	}
}

// TestSetsInParallel: partitions counted by different goroutines share one
// store; each set still answers exactly, and memory stays within the budget
// plus what the sets have not yet added to the shared count.
func TestSetsInParallel(t *testing.T) {
	const parts, budget = 4, 2000
	s, err := Open(Options{Dir: t.TempDir(), HotIdentities: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sets := make([]*Set, parts)
	for p := range sets {
		sets[p] = s.NewSet()
	}
	errs := make(chan error, parts)
	for p, d := range sets {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(p), 3))
			ref := map[[2]int64]bool{}
			base := int64(1_795_000_000)
			for i := range 30000 {
				sec := base + int64(i) - rng.Int64N(4*3600)
				id := rng.Uint64() % 8000
				k := [2]int64{Hour(sec), int64(id)}
				seen, err := d.Add(id, sec)
				if err != nil {
					errs <- err
					return
				}
				if seen != ref[k] {
					errs <- fmt.Errorf("partition %d add %d: seen=%v, want %v", p, i, seen, ref[k])
					return
				}
				ref[k] = true
			}
			if d.Len() != len(ref) {
				errs <- fmt.Errorf("partition %d: len %d, want %d", p, d.Len(), len(ref))
				return
			}
			errs <- nil
		}()
	}
	for range parts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	hot := 0
	for _, d := range sets {
		hot += d.Len() - d.Cold()
	}
	if hot > budget+parts*hotStep || s.Hot() > hot {
		t.Fatalf("%d identities in memory (%d counted), budget %d + %d per set", hot, s.Hot(), budget, hotStep)
	}
	for _, d := range sets {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if s.Hot() != 0 {
		t.Fatalf("%d identities counted in memory after every set closed", s.Hot())
	}
}
