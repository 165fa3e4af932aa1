package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// proc is one running `campaignpulse aggregate` process.
type proc struct {
	id   int
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// startAggregator runs the binary with args, its output appended to a log
// file in dir (kept for post-mortems, never inspected by the oracle).
func startAggregator(bin, dir string, id int, args []string) (*proc, error) {
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("aggregate-%02d.log", id)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("aggregator log: %w", err)
	}
	cmd := exec.Command(bin, append([]string{"aggregate"}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "CAMPAIGNPULSE_LOG_LEVEL=info")
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start aggregator %d: %w", id, err)
	}
	p := &proc{id: id, cmd: cmd, done: make(chan error, 1), log: f}
	go func() { p.done <- cmd.Wait(); f.Close() }()
	return p, nil
}

// kill sends SIGKILL: no flush, no commit, no goodbye. The exit status
// stays in done, so exited, kill and stop may follow in any order.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	err := <-p.done
	p.done <- err
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			return fmt.Errorf("aggregator %d exited uncleanly after SIGTERM: %w (log %s)", p.id, err, p.log.Name())
		}
		return nil
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("aggregator %d ignored SIGTERM for %s (log %s)", p.id, timeout, p.log.Name())
	}
}

// exited reports an unexpected exit without blocking.
func (p *proc) exited() (error, bool) {
	select {
	case err := <-p.done:
		p.done <- err
		return err, true
	default:
		return nil, false
	}
}
