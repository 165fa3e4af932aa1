package aggregate

import (
	"flag"
	"testing"
	"time"
)

// TestZeroFlagsMeanOff: --aggregate.max-future 0 is documented as "no check"
// and --aggregate.lateness 0 as "none"; neither may turn into its default.
func TestZeroFlagsMeanOff(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("aggregate", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--" + FlagMaxFuture, "0", "--" + FlagLateness, "0"}); err != nil {
		t.Fatal(err)
	}
	o = o.WithDefaults()
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if r := o.rules(); r.maxFuture != 0 || r.lateness != 0 {
		t.Fatalf("max-future %dms lateness %dms, want both off", r.maxFuture, r.lateness)
	}
	do := Options{Brokers: []string{"b"}}.WithDefaults()
	d := do.rules()
	if d.maxFuture != time.Hour.Milliseconds() || d.lateness != (2*time.Hour).Milliseconds() {
		t.Fatalf("defaults: %+v", d)
	}
}
