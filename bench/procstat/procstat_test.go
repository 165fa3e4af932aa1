package procstat

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestTreeIncludesChildren: a child that burns CPU is part of the parent's
// tree, and its CPU stays counted after it exits.
func TestTreeIncludesChildren(t *testing.T) {
	s := Start(os.Getpid(), 20*time.Millisecond)
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := false
	for !seen {
		for _, p := range tree(os.Getpid()) {
			if p == cmd.Process.Pid {
				seen = true
			}
		}
		if !seen && cmd.ProcessState != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !seen {
		t.Fatal("child never appeared in the tree")
	}
	time.Sleep(100 * time.Millisecond) // let the sampler see the child burn
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.mu.Lock()
	child := s.cpu[cmd.Process.Pid]
	s.mu.Unlock()
	if child <= 0 {
		t.Fatalf("the exited child's CPU is %.3fs in the tree's account, want > 0", child)
	}
	if s.PeakRSS() <= 0 {
		t.Fatal("no resident memory sampled")
	}
}
