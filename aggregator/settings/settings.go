// Package settings is how campaignpulse's packages declare their settings.
// Each package's Options has a RegisterFlags method that names every
// setting once, with its default and its help, on a flag.FlagSet. The
// binary's subcommands call it to build their command lines, and the same
// registration gives library callers (tests, the all-in-one mode) their
// defaults through Defaults and FillZero, so a default is written in exactly
// one place and an error message can name the flag it came from.
package settings

import (
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Off is the value of a duration setting that can be switched off, such as
// --aggregate.max-future 0 (no check). In Options a zero duration means "the
// default", so "off" needs a value of its own; on the command line it is
// written 0 or off. Read such a setting through Duration.
const Off time.Duration = -1

// Duration is the effective value of a setting registered with OffDuration:
// 0 when it is Off, d otherwise.
func Duration(d time.Duration) time.Duration {
	if d == Off {
		return 0
	}
	return d
}

// Defaults returns the options a registration sets before any flag is
// parsed: every default, from the one place it is written.
func Defaults[T any](register func(*T, *flag.FlagSet)) T {
	var o T
	register(&o, flag.NewFlagSet("defaults", flag.ContinueOnError))
	return o
}

// WithDefaults returns o with every zero field replaced by the default its
// registration gives it (see FillZero).
func WithDefaults[T any](o T, register func(*T, *flag.FlagSet)) T {
	FillZero(&o, Defaults(register))
	return o
}

// FillZero replaces every zero field of *o with the field of def, descending
// into nested structs (time.Time is a value, not a struct to descend into).
// A setting whose zero is meaningful must therefore not be zero by default
// (use Off, or a bool that is false by default). A field tagged
// `settings:"required"` is left alone: its flag has a default for the
// command line, but a library caller must say it (Kafka brokers).
func FillZero[T any](o *T, def T) {
	fillZero(reflect.ValueOf(o).Elem(), reflect.ValueOf(def))
}

var timeType = reflect.TypeFor[time.Time]()

func fillZero(dst, def reflect.Value) {
	if dst.Kind() == reflect.Struct && dst.Type() != timeType {
		for i := range dst.NumField() {
			if dst.Type().Field(i).Tag.Get("settings") == "required" {
				continue
			}
			if f := dst.Field(i); f.CanSet() {
				fillZero(f, def.Field(i))
			}
		}
		return
	}
	if dst.IsZero() {
		dst.Set(def)
	}
}

// Names lists the flags a registration defines, for tests that check every
// message naming a setting names a registered one.
func Names[T any](register func(*T, *flag.FlagSet)) []string {
	var o T
	fs := flag.NewFlagSet("names", flag.ContinueOnError)
	register(&o, fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// OffDuration registers a duration flag that 0 or "off" switches off (Off).
func OffDuration(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var((*offDuration)(p), name, usage)
}

type offDuration time.Duration

func (d *offDuration) String() string {
	if d == nil {
		return ""
	}
	if time.Duration(*d) == Off {
		return "off"
	}
	return time.Duration(*d).String()
}

func (d *offDuration) Set(s string) error {
	if s == "off" {
		*d = offDuration(Off)
		return nil
	}
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return err
	case v < 0:
		return fmt.Errorf("%s: must not be negative (0 or off switches it off)", s)
	case v == 0:
		v = Off
	}
	*d = offDuration(v)
	return nil
}

// List registers a comma-separated list flag; blanks around items and empty
// items are dropped.
func List(fs *flag.FlagSet, p *[]string, name string, def []string, usage string) {
	*p = append([]string(nil), def...)
	fs.Var((*list)(p), name, usage)
}

type list []string

func (l *list) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *list) Set(s string) error {
	*l = SplitList(s)
	return nil
}

// SplitList splits a comma-separated list, dropping blanks and empty items.
func SplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Time registers an RFC 3339 time flag whose default is the zero time
// (written as empty).
func Time(fs *flag.FlagSet, p *time.Time, name, usage string) {
	*p = time.Time{}
	fs.Var((*rfc3339)(p), name, usage)
}

type rfc3339 time.Time

func (t *rfc3339) String() string {
	if t == nil || time.Time(*t).IsZero() {
		return ""
	}
	return time.Time(*t).Format(time.RFC3339)
}

func (t *rfc3339) Set(s string) error {
	if s == "" {
		*t = rfc3339{}
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("%q is not RFC 3339 (e.g. 2026-11-26T00:00:00Z)", s)
	}
	*t = rfc3339(v.UTC())
	return nil
}

// Location registers an IANA time zone flag.
func Location(fs *flag.FlagSet, p **time.Location, name string, def *time.Location, usage string) {
	*p = def
	fs.Var(&location{p}, name, usage)
}

type location struct{ p **time.Location }

func (l *location) String() string {
	if l == nil || l.p == nil || *l.p == nil {
		return ""
	}
	return (*l.p).String()
}

func (l *location) Set(s string) error {
	loc, err := time.LoadLocation(s)
	if err != nil {
		return err
	}
	*l.p = loc
	return nil
}

// Int32 registers an int32 flag.
func Int32(fs *flag.FlagSet, p *int32, name string, def int32, usage string) {
	*p = def
	fs.Var(&integer[int32]{p}, name, usage)
}

// Int16 registers an int16 flag.
func Int16(fs *flag.FlagSet, p *int16, name string, def int16, usage string) {
	*p = def
	fs.Var(&integer[int16]{p}, name, usage)
}

// integer is a flag.Value of a sized integer; Set rejects values that do
// not fit.
type integer[T int16 | int32] struct{ p *T }

func (v *integer[T]) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}

func (v *integer[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, int(unsafe.Sizeof(*v.p))*8)
	if err != nil {
		return fmt.Errorf("%q is not a %d-bit integer", s, unsafe.Sizeof(*v.p)*8)
	}
	*v.p = T(n)
	return nil
}

// OffValue is the value of a number setting switched off (0 or "off" on the
// command line), such as --store-outages 0 (none): in Options a zero means
// "the default", so "off" needs a value of its own, as with Off. Read such a
// setting through Number.
const OffValue = -1

// Number is the effective value of a setting registered with OffNumber: 0
// when it is switched off, v otherwise.
func Number[T int | float64](v T) T {
	if v == OffValue {
		return 0
	}
	return v
}

// OffNumber registers a non-negative int or float64 flag that 0 or "off"
// switches off (OffValue).
func OffNumber[T int | float64](fs *flag.FlagSet, p *T, name string, def T, usage string) {
	*p = def
	fs.Var(&offNumber[T]{p}, name, usage)
}

type offNumber[T int | float64] struct{ p *T }

func (v *offNumber[T]) String() string {
	switch {
	case v == nil || v.p == nil:
		return "0"
	case *v.p == OffValue:
		return "off"
	}
	return strconv.FormatFloat(float64(*v.p), 'g', -1, 64)
}

func (v *offNumber[T]) Set(s string) error {
	if s == "off" {
		*v.p = OffValue
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return fmt.Errorf("%q is not a number", s)
	case f < 0:
		return fmt.Errorf("%s: must not be negative (0 or off switches it off)", s)
	case f == 0:
		*v.p = OffValue
		return nil
	}
	n := T(f)
	if float64(n) != f {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v.p = n
	return nil
}

// Not registers a boolean flag stored inverted, for an Options field whose
// zero must mean the default: --push.enabled (default true) fills
// DisablePush (default false).
func Not(fs *flag.FlagSet, p *bool, name string, def bool, usage string) {
	*p = !def
	fs.Var((*notBool)(p), name, usage)
}

type notBool bool

func (b *notBool) String() string {
	if b == nil {
		return "false"
	}
	return fmt.Sprint(!bool(*b))
}

func (b *notBool) Set(s string) error {
	var v bool
	if _, err := fmt.Sscan(s, &v); err != nil {
		return fmt.Errorf("%q is not a boolean", s)
	}
	*b = notBool(!v)
	return nil
}

func (b *notBool) IsBoolFlag() bool { return true }

// Secret registers a secret as two flags: name (the value itself) and
// name-file (a file holding it, such as a Docker secret), the file winning
// when both are given. The value never appears in usage or error messages;
// def (which must not be secret) is the default of name.
func Secret(fs *flag.FlagSet, p *string, name, def, usage, fileUsage string) {
	*p = def
	registerSecret(fs, &secret{set: func(v string) { *p = v }, def: def}, name, usage, fileUsage)
}

// SecretList is Secret for a comma-separated list of secrets (several
// accepted tokens); its default is empty.
func SecretList(fs *flag.FlagSet, p *[]string, name, usage, fileUsage string) {
	*p = nil
	registerSecret(fs, &secret{set: func(v string) { *p = SplitList(v) }}, name, usage, fileUsage)
}

func registerSecret(fs *flag.FlagSet, s *secret, name, usage, fileUsage string) {
	fs.Var(&secretFlag{s: s}, name, usage)
	fs.Var(&secretFlag{s: s, file: true}, name+"-file", fileUsage)
}

type secret struct {
	set      func(string)
	def      string
	path     string
	fromFile bool
}

// secretFlag is one of a secret's two flags: the value itself or, with
// file, the path of a file holding it.
type secretFlag struct {
	s    *secret
	file bool
}

func (f *secretFlag) String() string {
	switch {
	case f == nil || f.s == nil:
		return ""
	case f.file:
		return f.s.path
	}
	return f.s.def
}

func (f *secretFlag) Set(v string) error {
	switch {
	case !f.file:
		if !f.s.fromFile {
			f.s.set(v)
		}
		return nil
	case v == "":
		return nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return fmt.Errorf("read secret file %s: %w", v, err)
	}
	f.s.path, f.s.fromFile = v, true
	f.s.set(strings.TrimSpace(string(b)))
	return nil
}
