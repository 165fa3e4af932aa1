package aggregate

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// genRecord is one raw_events record of the test generator.
type genRecord struct {
	key, value []byte
	source     string
	ts         time.Time // Kafka record timestamp (ingest time)
}

// truthKey identifies a window summed over partitions.
type truthKey struct {
	g     metricdoc.Granularity
	start int64
	meta  metricdoc.Meta
}

// truth is what the aggregator must end up with, known by construction.
type truth struct {
	windows                              map[truthKey]metricdoc.Totals
	counted, duplicates, tooLate, dlq, n int64
}

// Time rules of the generated streams (Options.AllowedLateness and
// CorrectionHorizon of the tests), short so that streams stay small enough
// for FerretDB's ~7 ms per upsert.
const (
	genLateness   = 30 * time.Minute
	genCorrection = 3 * time.Hour
)

// generate builds a mixed stream over simulated hours starting at from:
// in-order and slightly late events (< lateness), late corrections (1-2.5 h
// late, inside the correction horizon), events far beyond it, push+pull
// copies (same identity, different milliseconds) and malformed records.
// Every outcome is known by construction, without running the
// aggregator's rules, so the truth is independent of them.
func generate(seed uint64, n int, from time.Time, hours int, loc *time.Location) ([]genRecord, truth) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	tr := truth{windows: make(map[truthKey]metricdoc.Totals)}
	type sent struct {
		app, afid, name, platform, ms, campaign, revenue string
		at                                               time.Time
	}
	var recent []sent
	seen := make(map[string]bool)
	step := time.Duration(hours) * time.Hour / time.Duration(n)
	var out []genRecord
	emit := func(s sent, ms, src string, at time.Time) {
		v := fmt.Sprintf(`{"app_id":%q,"appsflyer_id":%q,"event_name":%q,"event_time":%q,"platform":%q,"media_source":%q,"campaign":%q,"country_code":"DE","wifi":"true"`,
			s.app, s.afid, s.name, s.at.UTC().Format("2006-01-02 15:04:05")+ms, s.platform, "src"+s.campaign[len(s.campaign)-1:], s.campaign)
		if s.revenue != "" {
			v += fmt.Sprintf(`,"event_revenue":%q,"event_revenue_currency":"USD","event_revenue_usd":%q`, s.revenue, s.revenue)
		}
		v += `,"event_value":"{\"af_level\":\"` + fmt.Sprint(rng.IntN(100)) + `\"}"}`
		out = append(out, genRecord{key: []byte(s.app + "|" + s.afid), value: []byte(v), source: src, ts: at})
		tr.n++
	}
	count := func(s sent) {
		m := metricdoc.Meta{AppID: s.app, MediaSource: "src" + s.campaign[len(s.campaign)-1:], Campaign: s.campaign, Platform: s.platform, EventName: s.name}
		tot := metricdoc.Totals{Events: 1}
		if s.revenue != "" {
			m.Currency = "USD"
			var whole, cents int64
			fmt.Sscanf(s.revenue, "%d.%d", &whole, &cents)
			tot.RevenueMicros = whole*1_000_000 + cents*10_000
			tot.RevenueUSDMicros = tot.RevenueMicros
		}
		for _, g := range metricdoc.Granularities {
			k := truthKey{g, metricdoc.WindowStart(g, s.at, loc).Unix(), m}
			t := tr.windows[k]
			t.Add(tot)
			tr.windows[k] = t
		}
		tr.counted++
	}
	for i := 0; i < n; i++ {
		c := from.Add(time.Duration(i) * step)
		ingest := c.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		r := rng.IntN(100)
		switch {
		case r < 3: // malformed
			bad := [][]byte{[]byte(`{"app_id":"app1","appsflyer_id":`), []byte(`{"app_id":"app1","appsflyer_id":"9","event_name":"install","event_time":"2026-11-20 10:00:00","platform":"amiga"}`),
				[]byte(`{"app_id":"app1","appsflyer_id":"9","event_name":"install","platform":"ios"}`), []byte(`not json`)}
			out = append(out, genRecord{key: []byte("app1|9"), value: bad[rng.IntN(len(bad))], source: metricdoc.SourcePush, ts: ingest})
			tr.n++
			tr.dlq++
			continue
		case r < 11 && len(recent) > 0 && recent[len(recent)-1].at.After(c.Add(-genCorrection)): // copy of a recent counted event
			s := recent[rng.IntN(len(recent))]
			for !s.at.After(c.Add(-genCorrection)) { // the original must still be inside the horizon
				s = recent[rng.IntN(len(recent))]
			}
			ms := ""
			src := metricdoc.SourcePull
			if rng.IntN(2) == 0 {
				ms, src = fmt.Sprintf(".%03d", rng.IntN(1000)), metricdoc.SourcePush
			}
			emit(s, ms, src, ingest)
			tr.duplicates++
			continue
		}
		s := sent{
			app: "app1", afid: fmt.Sprint(rng.IntN(400)),
			platform: []string{"ios", "android"}[rng.IntN(2)], campaign: fmt.Sprintf("camp%d", 1+rng.IntN(2)),
		}
		s.name = metricdoc.InstallEventName
		if rng.IntN(3) == 0 {
			s.name = "af_purchase"
			s.revenue = fmt.Sprintf("%d.%02d", rng.IntN(20), rng.IntN(100))
		}
		late := r >= 11 && r < 13 && c.Sub(from) > genLateness+genCorrection+3*time.Hour
		switch {
		case late:
			s.at = c.Add(-genLateness - genCorrection - 2*time.Hour)
		case r >= 13 && r < 18:
			s.at = c.Add(-time.Hour - time.Duration(rng.IntN(90*60))*time.Second)
		default:
			s.at = c.Add(-time.Duration(rng.IntN(20*60)) * time.Second)
		}
		id := s.app + "|" + s.afid + "|" + s.name + "|" + fmt.Sprint(s.at.Unix())
		if seen[id] {
			continue // keep identities of distinct events distinct
		}
		seen[id] = true
		emit(s, fmt.Sprintf(".%03d", rng.IntN(1000)), metricdoc.SourcePush, ingest)
		if late {
			tr.tooLate++
			continue
		}
		count(s)
		recent = append(recent, s)
		if len(recent) > 40 {
			recent = recent[1:]
		}
	}
	return out, tr
}
