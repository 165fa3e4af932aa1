package pull

import (
	"flag"
	"testing"
	"time"
)

// TestZeroDelayMeansNone: --pull.delay 0 pulls up to now; it must not turn
// into the 10m default.
func TestZeroDelayMeansNone(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--" + FlagDelay, "0", "--" + FlagApps, "id1", "--" + FlagToken, "t"}); err != nil {
		t.Fatal(err)
	}
	o = o.WithDefaults()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.delay() != 0 {
		t.Fatalf("delay %s, want 0", o.delay())
	}
	if d := (Options{}).WithDefaults().delay(); d != 10*time.Minute {
		t.Fatalf("default delay %s", d)
	}
}
