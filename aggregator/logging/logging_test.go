package logging

import (
	"bytes"
	"flag"
	"log/slog"
	"strings"
	"testing"
)

// TestSwitchFollowsFlags: a logger derived before the flags are parsed
// takes the parsed level and format, attributes included.
func TestSwitchFollowsFlags(t *testing.T) {
	var buf bytes.Buffer
	sw := NewSwitch(&buf)
	log := sw.Logger().With("cmd", "run")
	log.Debug("hidden at the default level")

	var o Options
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--log.level", "debug", "--log.format", "json"}); err != nil {
		t.Fatal(err)
	}
	sw.Apply(o)
	log.Debug("shown", "k", 1)
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("debug record written at info level: %s", out)
	}
	if !strings.Contains(out, `"msg":"shown"`) || !strings.Contains(out, `"cmd":"run"`) {
		t.Errorf("want the debug record as JSON with the logger's attributes, got %s", out)
	}
	if err := fs.Parse([]string{"--log.format", "yaml"}); err == nil {
		t.Error("--log.format yaml accepted")
	}
}

// TestLibraryChatter: a client library's info records appear only at debug;
// its warnings always do.
func TestLibraryChatter(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var buf bytes.Buffer
		sw := NewSwitch(&buf)
		sw.Apply(Options{Level: level, Format: Text})
		lib := Library(sw.Logger()).With("component", "kafka")
		lib.Info("flushing")
		lib.Warn("broker unreachable")
		sw.Logger().Info("ours")
		out := buf.String()
		if got, want := strings.Contains(out, "flushing"), level == slog.LevelDebug; got != want {
			t.Errorf("level %s: library info written = %v, want %v\n%s", level, got, want, out)
		}
		if !strings.Contains(out, "broker unreachable") || !strings.Contains(out, "ours") {
			t.Errorf("level %s: a library warning or our own info is missing:\n%s", level, out)
		}
	}
	// Without a Switch the rule follows the handler's own level.
	var buf bytes.Buffer
	lib := Library(slog.New(slog.NewTextHandler(&buf, nil)))
	lib.Info("flushing")
	lib.Error("failed")
	if out := buf.String(); strings.Contains(out, "flushing") || !strings.Contains(out, "failed") {
		t.Errorf("plain handler at info: %s", out)
	}
}
