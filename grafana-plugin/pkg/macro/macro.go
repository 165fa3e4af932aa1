// Package macro expands Grafana's time macros ($__from, ${__to:date:iso},
// $__interval, ...) in the plugin backend. Alert rules send queries that
// never ran through the frontend's templateSrv, so every macro a query may
// contain must be expanded here, from the query's own time range.
//
// The SDK's experimental/macros is not used: it leaves bare $__from alone
// and turns ${__from:date:seconds} into garbage.
package macro

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Context is what a macro can refer to: the query's time range and interval.
type Context struct {
	From, To time.Time
	Interval time.Duration
}

// pattern matches ${__name}, ${__name:format...} and $__name.
var pattern = regexp.MustCompile(`\$\{(__[A-Za-z_]+)(?::([^}]*))?\}|\$(__[A-Za-z_]+)`)

// Expand replaces every known macro in s. Unknown macros are left as they
// are, so the caller's validation can reject them with a precise message.
func Expand(s string, c Context) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return pattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := pattern.FindStringSubmatch(m)
		name, format := sub[1], sub[2]
		if name == "" {
			name = sub[3]
		}
		if v, ok := value(name, format, c); ok {
			return v
		}
		return m
	})
}

// Contains reports whether s still holds something that looks like a
// template variable or macro ($name or ${...}).
func Contains(s string) bool {
	i := strings.IndexByte(s, '$')
	if i < 0 || i == len(s)-1 {
		return false
	}
	c := s[i+1]
	return c == '{' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || Contains(s[i+1:])
}

func value(name, format string, c Context) (string, bool) {
	switch name {
	case "__from":
		return formatTime(c.From, format)
	case "__to":
		return formatTime(c.To, format)
	case "__interval":
		return Duration(c.Interval), format == ""
	case "__interval_ms":
		return strconv.FormatInt(c.Interval.Milliseconds(), 10), format == ""
	case "__interval_s":
		return strconv.FormatInt(int64(c.Interval/time.Second), 10), format == ""
	case "__range":
		return Duration(c.To.Sub(c.From)), format == ""
	case "__range_ms":
		return strconv.FormatInt(c.To.Sub(c.From).Milliseconds(), 10), format == ""
	case "__range_s":
		return strconv.FormatInt(int64(c.To.Sub(c.From)/time.Second), 10), format == ""
	}
	return "", false
}

// formatTime renders t the way Grafana's frontend does for ${__from:...}:
// no format is epoch milliseconds, "date" and "date:iso" are ISO 8601 in
// UTC with milliseconds, "date:seconds" is epoch seconds, and
// "date:<moment format>" supports YYYY, YY, MM, DD, HH, mm, ss and SSS.
func formatTime(t time.Time, format string) (string, bool) {
	switch format {
	case "":
		return strconv.FormatInt(t.UnixMilli(), 10), true
	case "date", "date:iso":
		return t.UTC().Format("2006-01-02T15:04:05.000Z"), true
	case "date:seconds":
		return strconv.FormatInt(t.Unix(), 10), true
	}
	layout, ok := strings.CutPrefix(format, "date:")
	if !ok || layout == "" {
		return "", false
	}
	return moment(t.UTC(), layout), true
}

// momentTokens maps moment.js tokens to Go layouts, longest first.
var momentTokens = strings.NewReplacer(
	"YYYY", "2006", "YY", "06", "MM", "01", "DD", "02",
	"HH", "15", "mm", "04", "ss", "05", "SSS", "000",
)

func moment(t time.Time, layout string) string {
	// Literal digits in the layout would be read as Go layout elements, so
	// format token by token.
	var b strings.Builder
	for len(layout) > 0 {
		n := 1
		for _, tok := range [...]string{"YYYY", "SSS", "YY", "MM", "DD", "HH", "mm", "ss"} {
			if strings.HasPrefix(layout, tok) {
				n = len(tok)
				b.WriteString(t.Format(momentTokens.Replace(tok)))
				break
			}
		}
		if n == 1 {
			b.WriteByte(layout[0])
		}
		layout = layout[n:]
	}
	return b.String()
}

// Duration formats d like Grafana's interval strings: the largest unit that
// divides d exactly (1d, 6h, 5m, 30s, 250ms).
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}
