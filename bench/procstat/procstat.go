// Package procstat measures a process and its descendants from /proc: CPU
// seconds (user + system) and peak resident memory. A PySpark job is a
// Python driver and a JVM child, so both count.
package procstat

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTick is USER_HZ, 100 on every Linux the bench runs on.
const clockTick = 100

// Sampler polls a process tree.
type Sampler struct {
	root int

	mu      sync.Mutex
	cpu     map[int]float64 // last seen CPU seconds per pid (exited pids keep theirs)
	rssPeak int64           // bytes, sum over the tree
	rss     int64
	stop    context.CancelFunc
	done    chan struct{}
}

// Start samples the tree rooted at pid every interval until Stop.
func Start(pid int, interval time.Duration) *Sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sampler{root: pid, cpu: map[int]float64{}, stop: cancel, done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// Stop ends sampling after one last sample.
func (s *Sampler) Stop() {
	s.stop()
	<-s.done
	s.sample()
}

// CPU returns the CPU seconds the tree used so far.
func (s *Sampler) CPU() float64 {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	var t float64
	for _, v := range s.cpu {
		t += v
	}
	return t
}

// PeakRSS returns the highest sampled resident memory of the tree in bytes.
func (s *Sampler) PeakRSS() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rssPeak
}

// ResetPeak starts a new peak from the current resident memory.
func (s *Sampler) ResetPeak() {
	s.mu.Lock()
	s.rssPeak = s.rss
	s.mu.Unlock()
}

func (s *Sampler) sample() {
	pids := tree(s.root)
	var rss int64
	cpu := make(map[int]float64, len(pids))
	for _, p := range pids {
		c, r, err := stat(p)
		if err != nil {
			continue
		}
		cpu[p] = c
		rss += r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, c := range cpu {
		s.cpu[p] = c
	}
	s.rss = rss
	if rss > s.rssPeak {
		s.rssPeak = rss
	}
}

// tree returns pid and its live descendants.
func tree(root int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := fieldsAfterComm(b)
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		children[pp] = append(children[pp], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// fieldsAfterComm splits /proc/<pid>/stat after the command name, which
// may contain spaces: field 0 is the state.
func fieldsAfterComm(b []byte) []string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// RSS returns the resident bytes of one process (0 where /proc cannot be
// read), for benchmarks that report their own memory.
func RSS(pid int) int64 {
	_, rss, err := stat(pid)
	if err != nil {
		return 0
	}
	return rss
}

// stat returns the CPU seconds and resident bytes of one process.
func stat(pid int) (float64, int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	f := fieldsAfterComm(b)
	if len(f) < 22 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	return (ut + st) / clockTick, pages * int64(os.Getpagesize()), nil
}

// ProcessCPU returns the CPU seconds of one process without its children
// (0 where /proc cannot be read): the harness's own share, whose children
// are the engines it measures apart.
func ProcessCPU(pid int) float64 {
	cpu, _, err := stat(pid)
	if err != nil {
		return 0
	}
	return cpu
}

// MachineBusy returns the CPU seconds all cores of the machine spent
// outside idle and iowait since boot (/proc/stat): the difference over a
// run, next to what the measured processes used, shows how much went to
// everything else on a shared machine.
func MachineBusy() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("machine cpu: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	// cpu user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is already inside user and nice.
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("machine cpu: unexpected /proc/stat line %q", line)
	}
	var busy float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return 0, fmt.Errorf("machine cpu: field %d of %q: %w", i, line, err)
		}
		busy += v
	}
	return busy / clockTick, nil
}
