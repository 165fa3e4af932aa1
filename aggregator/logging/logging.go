// Package logging builds the process logger from --log.level and
// --log.format, and keeps the client libraries' routine INFO messages
// (franz-go's group joins, "flushing", metadata refreshes) out of it unless
// the level is debug: an operator reads campaignpulse's own messages, and
// the libraries' warnings and errors, at the default level.
//
// The logger exists before a command parses its flags (main hands it to the
// command), so it is built on a Switch whose level and format are set once
// the flags are known.
package logging

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
)

// Flag names.
const (
	FlagLevel  = "log.level"
	FlagFormat = "log.format"
)

// Options are the logging settings of every command.
type Options struct {
	Level  slog.Level
	Format Format
}

// Format is how records are written.
type Format string

// Formats.
const (
	Text Format = "text" // key=value lines
	JSON Format = "json" // one JSON object per line (containers)
)

// level is a slog.Level as a flag, shown in lower case.
type level slog.Level

func (l *level) Set(s string) error { return (*slog.Level)(l).UnmarshalText([]byte(s)) }

func (l *level) String() string { return strings.ToLower(slog.Level(*l).String()) }

// Set implements flag.Value.
func (f *Format) Set(s string) error {
	switch v := Format(strings.ToLower(s)); v {
	case Text, JSON:
		*f = v
		return nil
	}
	return fmt.Errorf("%q is not one of text, json", s)
}

func (f *Format) String() string { return string(*f) }

// RegisterFlags registers --log.level and --log.format.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	o.Level, o.Format = slog.LevelInfo, Text
	fs.Var((*level)(&o.Level), FlagLevel, "debug, info, warn or error; client libraries log below warn only at debug")
	fs.Var(&o.Format, FlagFormat, "text, or json for one JSON object per line (containers); logs go to stderr")
}

// Switch is a slog.Handler whose level and format are set after it is in
// use. Loggers derived from it (With, WithGroup) follow every change.
type Switch struct {
	w     io.Writer
	level slog.LevelVar
	// gen is bumped on every Apply; derived handlers rebuild on a new one.
	gen   atomic.Int64
	mu    sync.Mutex
	inner slog.Handler
}

// NewSwitch starts at info level in text format.
func NewSwitch(w io.Writer) *Switch {
	s := &Switch{w: w}
	s.Apply(Options{Level: slog.LevelInfo, Format: Text})
	return s
}

// Apply sets the level and format.
func (s *Switch) Apply(o Options) {
	s.level.Set(o.Level)
	opts := &slog.HandlerOptions{Level: &s.level}
	var h slog.Handler = slog.NewTextHandler(s.w, opts)
	if o.Format == JSON {
		h = slog.NewJSONHandler(s.w, opts)
	}
	s.mu.Lock()
	s.inner = h
	s.mu.Unlock()
	s.gen.Add(1)
}

// Level is the current level.
func (s *Switch) Level() slog.Level { return s.level.Level() }

// Logger returns a logger writing through s.
func (s *Switch) Logger() *slog.Logger { return slog.New(&derived{s: s}) }

// derived is the Switch seen through a chain of With/WithGroup calls,
// replayed on the current inner handler whenever Apply changed it.
type derived struct {
	s       *Switch
	ops     []func(slog.Handler) slog.Handler
	library bool
	mu      sync.Mutex
	gen     int64
	cached  slog.Handler
}

func (d *derived) handler() slog.Handler {
	gen := d.s.gen.Load()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cached == nil || d.gen != gen {
		d.s.mu.Lock()
		h := d.s.inner
		d.s.mu.Unlock()
		for _, op := range d.ops {
			h = op(h)
		}
		d.cached, d.gen = h, gen
	}
	return d.cached
}

func (d *derived) Enabled(ctx context.Context, l slog.Level) bool {
	if d.library && l < slog.LevelWarn && d.s.Level() > slog.LevelDebug {
		return false
	}
	return d.handler().Enabled(ctx, l)
}

func (d *derived) Handle(ctx context.Context, r slog.Record) error {
	return d.handler().Handle(ctx, r)
}

func (d *derived) with(op func(slog.Handler) slog.Handler, library bool) *derived {
	ops := append(append([]func(slog.Handler) slog.Handler(nil), d.ops...), op)
	return &derived{s: d.s, ops: ops, library: d.library || library}
}

func (d *derived) WithAttrs(as []slog.Attr) slog.Handler {
	return d.with(func(h slog.Handler) slog.Handler { return h.WithAttrs(as) }, false)
}

func (d *derived) WithGroup(name string) slog.Handler {
	return d.with(func(h slog.Handler) slog.Handler { return h.WithGroup(name) }, false)
}

// Library returns the logger to hand to a client library (franz-go's kslog,
// a database driver): below warn it logs only when the process logs at
// debug. A logger not built on a Switch gets the same rule against its own
// handler's debug setting.
func Library(l *slog.Logger) *slog.Logger {
	if d, ok := l.Handler().(*derived); ok {
		return slog.New(d.with(func(h slog.Handler) slog.Handler { return h }, true))
	}
	return slog.New(libraryHandler{l.Handler()})
}

type libraryHandler struct{ slog.Handler }

func (h libraryHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if l < slog.LevelWarn && !h.Handler.Enabled(ctx, slog.LevelDebug) {
		return false
	}
	return h.Handler.Enabled(ctx, l)
}

func (h libraryHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return libraryHandler{h.Handler.WithAttrs(as)}
}

func (h libraryHandler) WithGroup(name string) slog.Handler {
	return libraryHandler{h.Handler.WithGroup(name)}
}
