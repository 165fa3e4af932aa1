package realkafka

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// RequireEnv names the variable that turns a missing Java or Maven from a skip into a failure.
const RequireEnv = "CAMPAIGNPULSE_REQUIRE_KAFKA"

// Missing reports why a broker cannot run here ("" when it can): Java runs it, Maven fetches it.
func Missing() string {
	for _, tool := range []struct{ bin, why string }{
		{"java", "Java 17+ runs the broker (apt-get install openjdk-17-jre-headless)"},
		{"mvn", "Maven fetches the broker jars (apt-get install maven)"},
	} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			return tool.bin + " not found on PATH: " + tool.why
		}
	}
	if _, err := findScript(); err != nil {
		return err.Error()
	}
	return ""
}

// ForTest starts a broker in t.TempDir() and stops it when the test ends, logging the tail of the
// broker log if the test failed. It skips when java or mvn is missing, unless RequireEnv=1.
func ForTest(t testing.TB, opts Options) *Broker {
	t.Helper()
	if why := Missing(); why != "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("real Kafka broker required (%s=1) but %s", RequireEnv, why)
		}
		t.Skipf("real Kafka broker unavailable: %s (set %s=1 to fail instead)", why, RequireEnv)
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	b, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("start real kafka: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kafka server.log tail (%s):\n%s", b.Dir(), b.LogTail(40))
		}
		// t.Context is already cancelled here.
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("stop real kafka: %v", err)
		}
	})
	return b
}
