package settings

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type opts struct {
	Wait    time.Duration
	Grace   time.Duration
	Name    string
	Brokers []string `settings:"required"`
	Inner   struct{ N int }
	Token   string
	Disable bool
	Count   int
	Ratio   float64
}

func (o *opts) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&o.Wait, "x.wait", time.Minute, "")
	OffDuration(fs, &o.Grace, "x.grace", time.Hour, "")
	fs.StringVar(&o.Name, "x.name", "n", "")
	List(fs, &o.Brokers, "x.brokers", []string{"b:1"}, "")
	fs.IntVar(&o.Inner.N, "x.n", 3, "")
	Secret(fs, &o.Token, "x.token", "", "", "")
	Not(fs, &o.Disable, "x.enabled", true, "")
	OffNumber(fs, &o.Count, "x.count", 3, "")
	OffNumber(fs, &o.Ratio, "x.ratio", 1.5, "")
}

func parse(t *testing.T, args ...string) opts {
	t.Helper()
	var o opts
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOffIsNotTheDefault(t *testing.T) {
	for _, v := range []string{"0", "0s", "off"} {
		o := parse(t, "--x.grace", v)
		FillZero(&o, Defaults((*opts).RegisterFlags))
		if o.Grace != Off || Duration(o.Grace) != 0 {
			t.Errorf("--x.grace %s: got %v (effective %v), want off", v, o.Grace, Duration(o.Grace))
		}
	}
	o := parse(t)
	if Duration(o.Grace) != time.Hour {
		t.Errorf("default grace %v", o.Grace)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	new(opts).RegisterFlags(fs)
	if err := fs.Parse([]string{"--x.grace", "-1s"}); err == nil {
		t.Error("negative duration accepted")
	}
}

func TestFillZeroTakesTheRegisteredDefaults(t *testing.T) {
	o := opts{Name: "mine"}
	FillZero(&o, Defaults((*opts).RegisterFlags))
	switch {
	case o.Wait != time.Minute, o.Grace != time.Hour, o.Name != "mine", o.Inner.N != 3, o.Disable:
		t.Fatalf("filled %+v", o)
	case o.Brokers != nil:
		t.Fatalf("required setting filled: %v", o.Brokers)
	}
	if p := parse(t); len(p.Brokers) != 1 || p.Brokers[0] != "b:1" {
		t.Fatalf("flag default of a required setting: %v", p.Brokers)
	}
	if p := parse(t, "--x.enabled=false"); !p.Disable {
		t.Fatal("--x.enabled=false did not disable")
	}
}

func TestSecretFileWins(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--x.token-file", file, "--x.token", "direct"},
		{"--x.token", "direct", "--x.token-file", file},
	} {
		if o := parse(t, args...); o.Token != "from-file" {
			t.Errorf("%v: token %q, want the file's", args, o.Token)
		}
	}
	if o := parse(t, "--x.token", "direct"); o.Token != "direct" {
		t.Errorf("token %q", o.Token)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var errs strings.Builder
	fs.SetOutput(&errs)
	new(opts).RegisterFlags(fs)
	err := fs.Parse([]string{"--x.token-file", filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.Contains(err.Error(), "x.token-file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestSecretListSplitsValueAndFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte(" a, b ,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--x.tokens", "one, two"}, "one|two"},
		{[]string{"--x.tokens-file", file, "--x.tokens", "direct"}, "a|b"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var tokens []string
		SecretList(fs, &tokens, "x.tokens", "", "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(tokens, "|"); got != tc.want {
			t.Errorf("%v: tokens %q, want %q", tc.args, got, tc.want)
		}
		if f := fs.Lookup("x.tokens"); f.DefValue != "" || f.Value.String() != "" {
			t.Errorf("%v: the flag shows %q/%q; a secret list never shows its value", tc.args, f.DefValue, f.Value.String())
		}
	}
}

func TestSizedIntegersRejectOverflow(t *testing.T) {
	var (
		a int16
		b int32
	)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	Int16(fs, &a, "a", -1, "")
	Int32(fs, &b, "b", 6, "")
	if a != -1 || b != 6 || fs.Lookup("a").DefValue != "-1" {
		t.Fatalf("defaults %d %d %q", a, b, fs.Lookup("a").DefValue)
	}
	if err := fs.Parse([]string{"--a", "70000"}); err == nil {
		t.Fatal("70000 accepted as int16")
	}
	if err := fs.Parse([]string{"--a", "3", "--b", "70000"}); err != nil || a != 3 || b != 70000 {
		t.Fatalf("a=%d b=%d err=%v", a, b, err)
	}
}

func TestOffNumberIsNotTheDefault(t *testing.T) {
	def := Defaults((*opts).RegisterFlags)
	for _, v := range []string{"0", "off"} {
		o := parse(t, "--x.count", v, "--x.ratio", v)
		FillZero(&o, def)
		if o.Count != OffValue || Number(o.Count) != 0 || o.Ratio != OffValue || Number(o.Ratio) != 0 {
			t.Errorf("--x.count/--x.ratio %s: got %v and %v (effective %v and %v), want off", v, o.Count, o.Ratio, Number(o.Count), Number(o.Ratio))
		}
	}
	o := parse(t, "--x.count", "7", "--x.ratio", "0.25")
	FillZero(&o, def)
	if Number(o.Count) != 7 || Number(o.Ratio) != 0.25 {
		t.Errorf("set values: %v %v", o.Count, o.Ratio)
	}
	o = parse(t)
	if Number(o.Count) != 3 || Number(o.Ratio) != 1.5 {
		t.Errorf("defaults: %v %v", o.Count, o.Ratio)
	}
	for _, bad := range [][]string{{"--x.count", "-1"}, {"--x.count", "1.5"}, {"--x.ratio", "NaN"}, {"--x.count", "many"}} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		new(opts).RegisterFlags(fs)
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
