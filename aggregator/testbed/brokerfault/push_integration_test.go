//go:build integration

package brokerfault

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/realkafka"
)

// TestPushReceiverNeverAcksWhatKafkaLost runs the real `campaignpulse ingest` push receiver on the
// real broker and pushes numbered events while the broker is killed, stopped and frozen. The
// receiver may refuse (non-2xx, AppsFlyer retries) but every event it answered 2xx must be in
// raw_events, exactly once.
func TestPushReceiverNeverAcksWhatKafkaLost(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	b := realkafka.ForTest(t, realkafka.Options{})
	bin := buildBinary(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	if out, err := exec.CommandContext(ctx, bin, "topics", "--kafka.brokers", b.Addr()).CombinedOutput(); err != nil {
		t.Fatalf("campaignpulse topics: %v\n%s", err, out)
	}
	addr := embeddedtest.FreeAddr(t)
	const token = "brokerfault-token"
	opsAddr := embeddedtest.FreeAddr(t)
	ingest := startIngest(t, bin, b.Addr(), addr, opsAddr, token)

	target := PushTarget{URL: "http://" + addr + "/v1/push", Token: token}
	hc := &http.Client{Timeout: 40 * time.Second} // > --push.write-timeout: the receiver answers first
	waitReady(ctx, t, hc, "http://"+opsAddr+"/readyz")

	l := NewLedger()
	stats := &PushStats{}
	pushCtx, stopPushing := context.WithCancel(ctx)
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		PushSequence(pushCtx, hc, target, l, stats, 4, 1<<40)
	}()
	injected, err := Run(ctx, b, Options{Count: 3, Gap: 2 * time.Second, Down: 3 * time.Second, Seed: 11, Log: log})
	time.Sleep(2 * time.Second) // some pushes on the recovered broker
	stopPushing()
	<-pushed
	if err != nil {
		t.Fatalf("inject broker faults: %v", err)
	}
	stopIngest(t, ingest)
	for _, in := range injected {
		t.Logf("fault %-5s outage %s", in.Fault, in.Outage.Round(time.Millisecond))
	}
	t.Logf("push answers: %s", stats)

	read, err := ReadAll(ctx, b.Brokers(), "raw_events", DecodePushID)
	if err != nil {
		t.Fatalf("read raw_events: %v", err)
	}
	v := l.Check(read)
	t.Log(v.Summary("push-through-broker-faults"))
	if stats.OK == 0 || len(stats.Non2xx)+stats.Transport == 0 {
		t.Fatalf("want both accepted and refused pushes across %d faults, got %s", len(injected), stats)
	}
	if !v.OK() {
		t.Fatalf("%s; offending ids %v", v.Summary("push-through-broker-faults"), v.Examples)
	}
}

type ingestProc struct {
	cmd  *exec.Cmd
	done chan error
}

func startIngest(t *testing.T, bin, brokers, addr, opsAddr, token string) *ingestProc {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), "ingest.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "ingest", "--kafka.brokers", brokers, "--kafka.skip-topic-creation",
		"--push.addr", addr, "--http.addr", opsAddr, "--push.produce-timeout", "3s", "--kafka.delivery-timeout", "5s")
	cmd.Env = append(os.Environ(), "CAMPAIGNPULSE_PUSH_TOKEN="+token)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ingest: %v", err)
	}
	p := &ingestProc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("ingest log:\n%s", tail(string(b), 4000))
			}
		}
	})
	return p
}

// stopIngest sends SIGTERM and waits for the drain, so every in-flight push got its answer.
func stopIngest(t *testing.T, p *ingestProc) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if err != nil {
			t.Errorf("ingest exited uncleanly after SIGTERM: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Errorf("ingest ignored SIGTERM for 40s")
	}
}

func waitReady(ctx context.Context, t *testing.T, hc *http.Client, url string) {
	t.Helper()
	for {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never ready: %v", url, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
