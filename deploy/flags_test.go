package deploy

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// processWide are read by main for every subcommand, outside the flag sets.
var processWide = []string{"CAMPAIGNPULSE_LOG_FORMAT", "CAMPAIGNPULSE_LOG_LEVEL"}

// TestComposeEnvNamesAreRealFlags builds the binary and checks that every CAMPAIGNPULSE_* variable
// compose sets for a service is one its subcommand reads (as listed by `<cmd> --help`). A typo or
// a renamed flag would otherwise be ignored silently and the service would run on a default.
func TestComposeEnvNamesAreRealFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the campaignpulse binary")
	}
	bin := filepath.Join(t.TempDir(), "campaignpulse")
	build := exec.Command("go", "build", "-o", bin, "./aggregator/cmd/campaignpulse")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	envRe := regexp.MustCompile(`\(env (CAMPAIGNPULSE_[A-Z0-9_]+)`)
	p := loadAll(t)
	for name := range ourServices {
		s := service(t, p, name)
		// --help exits 2 after printing the flags; the output is what matters.
		out, _ := exec.Command(bin, s.Command[0], "--help").CombinedOutput()
		var known []string
		for _, m := range envRe.FindAllStringSubmatch(string(out), -1) {
			known = append(known, m[1])
		}
		if len(known) == 0 {
			t.Errorf("%s: `campaignpulse %s --help` lists no flags:\n%s", name, s.Command[0], out)
			continue
		}
		for k := range s.Environment {
			if !slices.Contains(known, k) && !slices.Contains(processWide, k) {
				t.Errorf("%s: compose sets %s, which `campaignpulse %s` does not read", name, k, s.Command[0])
			}
		}
	}
}
