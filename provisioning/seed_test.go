package provisioning_test

import (
	"context"
	"hash/fnv"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/seed"
)

// The seeded world: a few apps, sources, campaigns and platforms with
// deterministic hourly counts of installs and purchases, stored the way the
// aggregator stores them (finals in hourly/daily collections before the
// checkpoint's finalized-through times, live documents after), plus
// raw_events partitions with a known consumer-group lag.
var (
	seedApps      = []string{"com.acme.game", "id123456"}
	seedSources   = []string{"facebook", "googleadwords_int"}
	seedCampaigns = []string{"summer", "winter", "retarget"}
	seedPlatforms = []string{"android", "ios"}
	seedCurrency  = map[string]string{"android": "EUR", "ios": "USD"}
	seedAges      = []time.Duration{30 * time.Minute, 2 * time.Hour} // freshness per app: well inside and well past the 1 h alert
)

const purchaseEvent = "af_purchase"

// description is the world of the provisioning tests at now: 30 hourly
// and 7 daily windows in one partition whose last 4 hours are still open.
func description(now time.Time) seed.World {
	w := seed.World{Now: now, Hours: 30, Days: 7, OpenHours: []int{4}, Activity: activity}
	for _, a := range seedApps {
		for _, s := range seedSources {
			for _, c := range seedCampaigns {
				for _, p := range seedPlatforms {
					m := metricdoc.Meta{AppID: a, MediaSource: s, Campaign: c, Platform: p, EventName: metricdoc.InstallEventName}
					w.Metas = append(w.Metas, m)
					m.EventName, m.Currency = purchaseEvent, seedCurrency[p]
					w.Metas = append(w.Metas, m)
				}
			}
		}
	}
	for i, app := range seedApps {
		for _, src := range []string{metricdoc.SourcePush, metricdoc.SourcePull} {
			w.Freshness = append(w.Freshness, seed.Fresh{AppID: app, Source: src, Age: seedAges[i]})
		}
	}
	return w
}

// activity is the deterministic activity of one combination in one hour:
// installs, or purchases with their revenue (EUR converted at 1.08).
func activity(m metricdoc.Meta, _ int32, hour time.Time) metricdoc.Totals {
	h := fnv.New32a()
	h.Write([]byte(m.AppID + m.MediaSource + m.Campaign + m.Platform + strconv.FormatInt(hour.Unix(), 10)))
	v := int64(h.Sum32())
	if m.EventName == metricdoc.InstallEventName {
		return metricdoc.Totals{Events: v % 7}
	}
	rate := int64(100)
	if m.Currency == "EUR" {
		rate = 108
	}
	rev := ((v >> 8) % 5) * 1_990_000
	return metricdoc.Totals{Events: (v >> 4) % 11, RevenueMicros: rev, RevenueUSDMicros: rev * rate / 100}
}

// backlog: partition 0 lags by 6 records that are 10 minutes old, the
// others by 0 (partition 2 is empty).
func backlog(now time.Time, group string) seed.Backlog {
	return seed.Backlog{Now: now, Group: group, Records: []int{10, 5, 0}, Committed: map[int32]int64{0: 4, 1: 5},
		Oldest: 10 * time.Minute, Spacing: time.Second}
}

// seeded is the world as stored, with its truth and the backlog's lag.
type seeded struct {
	*seed.Truth
	lag seed.Lag
}

// seedWorld writes the world into the database and the backlog into Kafka.
func seedWorld(t *testing.T, mongoURI, database string, brokers []string, group string, now time.Time) seeded {
	t.Helper()
	cl, err := mongo.Connect(options.Client().ApplyURI(mongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Disconnect(context.WithoutCancel(t.Context()))
	tr, err := seed.Write(t.Context(), cl.Database(database), description(now))
	if err != nil {
		t.Fatal(err)
	}
	lag, err := seed.WriteBacklog(t.Context(), brokers, backlog(now, group))
	if err != nil {
		t.Fatal(err)
	}
	return seeded{Truth: tr, lag: lag}
}

// today is what a query of spec over today's day windows answers, of the
// apps given (all when none).
func (s seeded) today(spec metricdoc.MeasureSpec, apps ...string) float64 {
	return s.Measure(spec, func(c *seed.Cell) bool {
		return c.Granularity == metricdoc.Day && c.Window.Equal(s.Today) && (len(apps) == 0 || slices.Contains(apps, c.Meta.AppID))
	})
}
