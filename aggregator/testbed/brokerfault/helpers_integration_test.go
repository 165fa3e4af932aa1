//go:build integration

package brokerfault

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// buildBinary compiles the campaignpulse command the way the deployment runs it.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "campaignpulse")
	cmd := exec.Command("go", "build", "-o", bin, "./aggregator/cmd/campaignpulse")
	cmd.Dir = filepath.Join("..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build campaignpulse: %v\n%s", err, out)
	}
	return bin
}

// testWriter sends slog output to t.Log, so it shows only for failing or -v runs.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
