package simulate

import (
	"regexp"
	"strings"
	"testing"
)

func mustWorld(t testing.TB, seed int64) *World {
	t.Helper()
	w, err := NewWorld(seed, WorldOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWorldIsDeterministic(t *testing.T) {
	a, b, c := mustWorld(t, 7), mustWorld(t, 7), mustWorld(t, 8)
	sig := func(w *World) string {
		var s strings.Builder
		for _, app := range w.Apps {
			s.WriteString(app.ID + app.Currency)
			for _, src := range app.Sources {
				for _, c := range src.Campaigns {
					s.WriteString(c.Name + c.ID)
				}
			}
		}
		return s.String()
	}
	if sig(a) != sig(b) {
		t.Fatal("same seed gave different worlds")
	}
	if sig(a) == sig(c) {
		t.Fatal("different seeds gave the same world")
	}
}

func TestWorldShapes(t *testing.T) {
	w, err := NewWorld(3, WorldOptions{Apps: 6, Campaigns: 5})
	if err != nil {
		t.Fatal(err)
	}
	iosID, androidID := regexp.MustCompile(`^id\d{9,10}$`), regexp.MustCompile(`^[a-z]+(\.[a-z0-9]+){2,}$`)
	platforms := map[string]int{}
	for _, a := range w.Apps {
		platforms[a.Platform]++
		switch a.Platform {
		case "ios":
			if !iosID.MatchString(a.ID) {
				t.Errorf("iOS app id %q", a.ID)
			}
		case "android":
			if !androidID.MatchString(a.ID) || a.BundleID != a.ID {
				t.Errorf("Android app id %q bundle %q", a.ID, a.BundleID)
			}
		default:
			t.Errorf("platform %q", a.Platform)
		}
		if w.App(a.ID) != a {
			t.Errorf("App(%q) lookup failed", a.ID)
		}
		names := map[string]bool{}
		for _, s := range a.Sources {
			names[s.Name] = true
			if s.Attributed() != (len(s.Campaigns) == 5) {
				t.Errorf("%s/%s: attributed %v with %d campaigns", a.ID, s.Name, s.Attributed(), len(s.Campaigns))
			}
		}
		for _, want := range []string{"organic", "restricted", "Facebook Ads", "googleadwords_int", "tiktokglobal_int"} {
			if !names[want] {
				t.Errorf("%s lacks media source %s", a.ID, want)
			}
		}
		if names["apple_search_ads"] != (a.Platform == "ios") {
			t.Errorf("%s (%s): apple_search_ads present = %v", a.ID, a.Platform, names["apple_search_ads"])
		}
	}
	if platforms["ios"] != 3 || platforms["android"] != 3 || len(w.AppIDs()) != 6 {
		t.Fatalf("platform mix %v", platforms)
	}
	if w.App("id0") != nil {
		t.Fatal("unknown app found")
	}
}

func TestWorldOptionsValidate(t *testing.T) {
	for name, o := range map[string]WorldOptions{
		FlagApps:      {Apps: -1},
		FlagCampaigns: {Campaigns: 20000},
		FlagSkew:      {Skew: -2},
	} {
		if _, err := NewWorld(1, o); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the option", name, err)
		}
	}
}
