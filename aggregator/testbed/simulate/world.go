package simulate

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// WorldOptions shape the synthetic world. Zero values take the defaults.
type WorldOptions struct {
	// Apps is the number of apps, alternating iOS and Android.
	Apps int
	// Campaigns is the number of campaigns per attributed media source and
	// app.
	Campaigns int
	// Skew is the Zipf exponent of app and campaign popularity;
	// settings.OffValue: all equally popular. Read it through
	// settings.Number.
	Skew float64
}

// RegisterFlags registers the --sim.* settings of the world; the defaults
// written here are the only ones.
func (o *WorldOptions) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.Apps, FlagApps, 4, "number of synthetic apps (alternating iOS and Android)")
	fs.IntVar(&o.Campaigns, FlagCampaigns, 8, "campaigns per attributed media source and app")
	settings.OffNumber(fs, &o.Skew, FlagSkew, 1.2, "Zipf exponent of app and campaign popularity (0 or off: all equally popular)")
}

// WithDefaults returns o with zero settings replaced by their defaults.
func (o WorldOptions) WithDefaults() WorldOptions {
	return settings.WithDefaults(o, (*WorldOptions).RegisterFlags)
}

func (o *WorldOptions) validate() error {
	switch {
	case o.Apps < 1 || o.Apps > 1000:
		return fmt.Errorf("%s %d: want 1..1000", FlagApps, o.Apps)
	case o.Campaigns < 1 || o.Campaigns > 10000:
		return fmt.Errorf("%s %d: want 1..10000", FlagCampaigns, o.Campaigns)
	case o.Skew != settings.OffValue && (o.Skew < 0 || math.IsNaN(o.Skew) || o.Skew > 10):
		return fmt.Errorf("%s %v: want 0..10", FlagSkew, o.Skew)
	}
	return nil
}

// World is the synthetic AppsFlyer account: apps with their media sources
// and campaigns, and every valid event Traffic has generated so far (which
// the Pull API serves). It is safe for concurrent use.
type World struct {
	Seed int64
	Apps []*App

	appPick weighted
	store   *store
}

// App is one app of the account.
type App struct {
	ID       string // iOS: id<digits>; Android: package name
	Name     string
	Platform string // ios or android
	BundleID string
	Currency string // the app's preferred currency

	Sources    []*Source
	sourcePick weighted
}

// Source is a media source of one app with its campaigns (none for organic
// and restricted).
type Source struct {
	spec         *sourceSpec
	Name         string
	Campaigns    []*Campaign
	campaignPick weighted
}

// Attributed reports whether events of this source carry attribution fields.
func (s *Source) Attributed() bool { return s.spec.Attributed }

// Campaign is one campaign with its ad sets and ads.
type Campaign struct {
	Name, ID string
	Adsets   []Adset
}

// Adset is an ad set with its ads.
type Adset struct {
	Name, ID string
	Ads      [][2]string // name, id
}

// NewWorld builds a world from a seed; the same seed and options always give
// the same world.
func NewWorld(seed int64, opts WorldOptions) (*World, error) {
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x776f726c64))
	w := &World{Seed: seed, store: newStore()}
	usedIDs := map[string]bool{}
	for i := range opts.Apps {
		a := &App{Currency: appCurrencies[rng.IntN(len(appCurrencies))]}
		w1, w2 := appWords[rng.IntN(len(appWords))], appWords[rng.IntN(len(appWords))]
		a.Name = titleCase(w1) + " " + titleCase(w2)
		if i%2 == 0 {
			a.Platform = "ios"
			for a.ID == "" || usedIDs[a.ID] {
				a.ID = "id" + strconv.FormatInt(1_000_000_000+rng.Int64N(8_999_999_999), 10)
			}
			a.BundleID = "com." + w1 + "." + w2 + "ios"
		} else {
			a.Platform = "android"
			for a.ID == "" || usedIDs[a.ID] {
				a.ID = "com." + w1 + "studio." + w2 + strconv.Itoa(rng.IntN(100))
			}
			a.BundleID = a.ID
		}
		usedIDs[a.ID] = true
		for si := range sourceSpecs {
			spec := &sourceSpecs[si]
			if spec.IOSOnly && a.Platform != "ios" {
				continue
			}
			s := &Source{spec: spec, Name: spec.Name}
			if spec.Attributed {
				for c := range opts.Campaigns {
					s.Campaigns = append(s.Campaigns, newCampaign(rng, a, spec, c))
				}
				s.campaignPick = zipf(len(s.Campaigns), settings.Number(opts.Skew))
			}
			a.Sources = append(a.Sources, s)
			a.sourcePick.add(spec.Weight)
		}
		w.Apps = append(w.Apps, a)
	}
	w.appPick = zipf(len(w.Apps), settings.Number(opts.Skew))
	return w, nil
}

// sourceAbbrev is how marketers abbreviate a source in campaign names.
var sourceAbbrev = map[string]string{"Facebook Ads": "FB", "googleadwords_int": "GAds", "tiktokglobal_int": "TT", "apple_search_ads": "ASA"}

func newCampaign(rng *rand.Rand, a *App, spec *sourceSpec, n int) *Campaign {
	theme := campaignThemes[rng.IntN(len(campaignThemes))]
	c := &Campaign{
		Name: fmt.Sprintf("%s_%s_%s_%s_%02d", theme, map[string]string{"ios": "iOS", "android": "Android"}[a.Platform], countries[rng.IntN(len(countries))].Code, sourceAbbrev[spec.Name], n+1),
		ID:   digits(rng, 17),
	}
	for s := range 1 + rng.IntN(3) {
		as := Adset{Name: fmt.Sprintf("%s_adset_%d", theme, s+1), ID: digits(rng, 17)}
		for ad := range 1 + rng.IntN(3) {
			as.Ads = append(as.Ads, [2]string{fmt.Sprintf("creative_%c_%d", 'A'+rune(ad), rng.IntN(100)), digits(rng, 17)})
		}
		c.Adsets = append(c.Adsets, as)
	}
	return c
}

// App returns the app with the given id, or nil.
func (w *World) App(id string) *App {
	for _, a := range w.Apps {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// AppIDs returns the ids of all apps.
func (w *World) AppIDs() []string {
	ids := make([]string, len(w.Apps))
	for i, a := range w.Apps {
		ids[i] = a.ID
	}
	return ids
}

// weighted picks an index with probability proportional to its weight.
type weighted struct {
	cum []float64
}

func (p *weighted) add(w float64) {
	last := 0.0
	if n := len(p.cum); n > 0 {
		last = p.cum[n-1]
	}
	p.cum = append(p.cum, last+w)
}

func (p *weighted) pick(rng *rand.Rand) int {
	x := rng.Float64() * p.cum[len(p.cum)-1]
	lo, hi := 0, len(p.cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if p.cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// zipf gives rank k (0-based) the weight 1/(k+1)^s: a few campaigns get
// most of the traffic, as in real accounts.
func zipf(n int, s float64) weighted {
	var p weighted
	for k := range n {
		p.add(1 / math.Pow(float64(k+1), s))
	}
	return p
}

func digits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	b[0] = byte('1' + rng.IntN(9))
	for i := 1; i < n; i++ {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
