package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// perfRecord samples one process with Linux perf (call stacks by frame
// pointer, which Go keeps on amd64 and arm64): the end-to-end profile of
// the production binary during a throughput run, where a Go benchmark
// sees only the hot path.
type perfRecord struct {
	cmd  *exec.Cmd
	data string
	log  *os.File
}

// startPerf starts sampling pid into data; it fails when perf is not
// installed or not permitted.
func startPerf(pid int, data, logPath string) (*perfRecord, error) {
	bin, err := exec.LookPath("perf")
	if err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("perf log: %w", err)
	}
	cmd := exec.Command(bin, "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", data)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("perf record: %w", err)
	}
	return &perfRecord{cmd: cmd, data: data, log: lf}, nil
}

// stop ends the recording (SIGINT makes perf write its file).
func (p *perfRecord) stop() error {
	defer p.log.Close()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("perf record did not stop within 30 s (log %s)", p.log.Name())
	}
	return nil
}

// report writes the recording's report: functions by their own samples,
// then by the samples of everything they called.
func (p *perfRecord) report(report string) error {
	self, err := exec.Command("perf", "report", "-i", p.data, "--stdio", "--no-children", "--sort", "symbol", "-g", "none", "--percent-limit", "0.7").Output()
	if err != nil {
		return fmt.Errorf("perf report: %w", err)
	}
	total, err := exec.Command("perf", "report", "-i", p.data, "--stdio", "--children", "--sort", "symbol", "-g", "none", "--percent-limit", "3").Output()
	if err != nil {
		return fmt.Errorf("perf report: %w", err)
	}
	out := "# own samples (--no-children)\n" + tidy(self) + "\n# samples including callees (--children)\n" + tidy(total)
	return os.WriteFile(report, []byte(out), 0o644)
}

// tidy drops perf's column padding and the IPC columns a virtual machine
// leaves empty.
func tidy(report []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(report), "\n") {
		line = strings.TrimRight(line, " ")
		line = strings.TrimRight(strings.TrimSuffix(line, "-      -"), " ")
		line = strings.TrimRight(strings.TrimSuffix(line, "IPC   [IPC Coverage]"), " ")
		if strings.Trim(line, "#. ") == "" && strings.HasPrefix(line, "# ..") {
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
