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

// TestMachineBusyCountsThisProcess: CPU this process burns shows up in the
// machine's busy seconds, and this process's own account grows by it.
func TestMachineBusyCountsThisProcess(t *testing.T) {
	m0, err := MachineBusy()
	if err != nil {
		t.Fatal(err)
	}
	self0 := ProcessCPU(os.Getpid())
	for start := time.Now(); ProcessCPU(os.Getpid())-self0 < 0.2; {
		for i := 0; i < 1_000_000; i++ {
			_ = i * i
		}
		if time.Since(start) > time.Minute {
			t.Fatal("this process's CPU did not grow by 0.2 s within a minute of spinning")
		}
	}
	m1, err := MachineBusy()
	if err != nil {
		t.Fatal(err)
	}
	// Half of it: /proc/stat and /proc/<pid>/stat are sampled at different ticks.
	if m1-m0 < 0.1 {
		t.Fatalf("machine busy grew by %.2f s while this process alone used 0.2 s", m1-m0)
	}
}
