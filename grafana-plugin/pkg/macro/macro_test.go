package macro

import (
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	c := Context{
		From:     time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		To:       time.Date(2026, 11, 26, 10, 30, 15, 250e6, time.UTC),
		Interval: 5 * time.Minute,
	}
	tests := []struct {
		name, in, want string
	}{
		{"bare from", "$__from", "1795600800000"},
		{"bare to", "$__to", "1795689015250"},
		{"braced from", "${__from}", "1795600800000"},
		{"iso keeps zero millis", "${__from:date:iso}", "2026-11-25T10:00:00.000Z"},
		{"date alone is iso", "${__to:date}", "2026-11-26T10:30:15.250Z"},
		{"seconds", "${__from:date:seconds}", "1795600800"},
		{"moment layout", "promo-${__to:date:YYYY-MM-DD}", "promo-2026-11-26"},
		{"moment with literal digits", "${__to:date:YYYY1MM}", "2026111"},
		{"interval", "$__interval", "5m"},
		{"interval ms not eaten by interval", "$__interval_ms", "300000"},
		{"braced interval ms", "${__interval_ms}", "300000"},
		{"range seconds", "$__range_s", "88215"},
		{"several in one", "$__from-$__to", "1795600800000-1795689015250"},
		{"unknown macro stays", "$__nope and ${__nope:x}", "$__nope and ${__nope:x}"},
		{"unknown format stays", "${__interval:date}", "${__interval:date}"},
		{"no dollar", "plain", "plain"},
		{"template variable untouched", "$campaign", "$campaign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Expand(tt.in, c); got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	for in, want := range map[string]bool{
		"$campaign": true, "${x}": true, "a$__b": true, "price$": false,
		"US$ 5": false, "plain": false, "a$1 then $x": true,
	} {
		if got := Contains(in); got != want {
			t.Errorf("Contains(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 48 * time.Hour: "2d", 90 * time.Minute: "90m", 30 * time.Second: "30s",
		1500 * time.Millisecond: "1500ms", 6 * time.Hour: "6h",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
