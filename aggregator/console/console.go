// Package console is the live summary `campaignpulse run` prints: events/s
// per source, the top campaigns this hour and today, consumer lag, data
// freshness and the URLs to try. On a terminal it is a small table redrawn
// in place; otherwise (a pipe, a file, CI) it is one plain line per tick.
//
// Everything but the rates is asked of the Grafana plugin's datasource, the
// same answers a dashboard gets; the rates come from ingest's counters.
package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// QueryFunc runs one query model through the datasource over [from, to).
type QueryFunc func(ctx context.Context, model []byte, from, to time.Time) (data.Frames, error)

// Link is a URL worth showing, with what it is.
type Link struct{ Name, URL string }

// Row is one ranked group: its labels joined and its value.
type Row struct {
	Label string
	Value float64
	// rest: the groups beyond the top N, folded into "other".
	rest bool
}

// Rate is the events/s of one source since the previous snapshot.
type Rate struct {
	Source    string
	PerSecond float64
	Total     float64
}

// Freshness is the age of the newest counted event of one source: the
// newest over all apps and the stalest app's.
type Freshness struct {
	Source           string
	Newest, Stalest  time.Duration
	AppsWithoutEvent int
}

// Snapshot is one frame of the summary.
type Snapshot struct {
	At               time.Time
	Uptime           time.Duration
	Rates            []Rate
	TopHour          []Row
	TopToday         []Row
	LagRecords       int64
	LagSeconds       float64
	LagPartitions    int
	Freshness        []Freshness
	Links            []Link
	Problems         []string
	TopN             int
	Location         *time.Location
	lagSecondsKnown  bool
	freshnessQueried bool
}

// Collector gathers snapshots.
type Collector struct {
	Query    QueryFunc
	Gatherer prometheus.Gatherer
	// Location is the time zone of "this hour" and "today" (the
	// aggregator's day windows).
	Location *time.Location
	Links    []Link
	// TopN campaigns per list. Default 5.
	TopN  int
	Now   func() time.Time
	start time.Time
	last  map[string]float64
	lastT time.Time
}

// publishedMetric counts the events ingest got acknowledged, by source.
const publishedMetric = "campaignpulse_ingest_events_published_total"

// Collect takes one snapshot. A failed query leaves its part empty and is
// named in Problems.
func (c *Collector) Collect(ctx context.Context) Snapshot {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.TopN == 0 {
		c.TopN = 5
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	now := c.Now()
	if c.start.IsZero() {
		c.start = now
	}
	s := Snapshot{At: now, Uptime: now.Sub(c.start), Links: c.Links, TopN: c.TopN, Location: c.Location}
	problem := func(what string, err error) { s.Problems = append(s.Problems, fmt.Sprintf("%s: %v", what, err)) }

	if err := c.rates(&s, now); err != nil {
		problem("rates", err)
	}
	local := now.In(c.Location)
	hour := local.Truncate(time.Hour)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, c.Location)
	var err error
	if s.TopHour, err = c.top(ctx, metricdoc.Hour, hour, now); err != nil {
		problem("top campaigns this hour", err)
	}
	if s.TopToday, err = c.top(ctx, metricdoc.Day, day, now); err != nil {
		problem("top campaigns today", err)
	}
	if err := c.lag(ctx, &s, now); err != nil {
		problem("consumer lag", err)
	}
	if err := c.freshness(ctx, &s, now); err != nil {
		problem("freshness", err)
	}
	return s
}

func (c *Collector) rates(s *Snapshot, now time.Time) error {
	if c.Gatherer == nil {
		return nil
	}
	mfs, err := c.Gatherer.Gather()
	if err != nil {
		return err
	}
	totals := map[string]float64{metricdoc.SourcePush: 0, metricdoc.SourcePull: 0}
	for _, mf := range mfs {
		if mf.GetName() != publishedMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" {
					totals[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	dt := now.Sub(c.lastT).Seconds()
	for _, src := range slices.Sorted(maps.Keys(totals)) {
		r := Rate{Source: src, Total: totals[src]}
		if c.last != nil && dt > 0 {
			r.PerSecond = max(totals[src]-c.last[src], 0) / dt
		}
		s.Rates = append(s.Rates, r)
	}
	c.last, c.lastT = totals, now
	return nil
}

func (c *Collector) run(ctx context.Context, q metricdoc.Query, from, to time.Time) (data.Frames, error) {
	model, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	return c.Query(ctx, model, from, to)
}

// top asks for installs by media source and campaign over [from, to),
// largest first.
func (c *Collector) top(ctx context.Context, g metricdoc.Granularity, from, to time.Time) ([]Row, error) {
	frames, err := c.run(ctx, metricdoc.Query{
		QueryType: metricdoc.QueryMetrics, Measure: metricdoc.MeasureInstalls, Granularity: string(g),
		GroupBy: []string{metricdoc.DimMediaSource, metricdoc.DimCampaign}, TopN: c.TopN, Format: metricdoc.FormatTable,
	}, from, to)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, f := range frames {
		n, _ := f.RowLen()
		for i := range n {
			var labels []string
			var v float64
			for _, fld := range f.Fields {
				if fld.Type().Numeric() {
					v, _ = fld.FloatAt(i)
				} else if s, ok := fld.ConcreteAt(i); ok {
					labels = append(labels, fmt.Sprint(s))
				}
			}
			for i, l := range labels {
				if l == "" {
					labels[i] = "(none)"
				}
			}
			rows = append(rows, Row{Label: strings.Join(labels, " / "), Value: v, rest: slices.Equal(labels, []string{"other", "other"})})
		}
	}
	// Largest first; the groups folded into "other" last, as the rest.
	slices.SortStableFunc(rows, func(a, b Row) int {
		switch {
		case a.rest != b.rest:
			if a.rest {
				return 1
			}
			return -1
		case a.Value > b.Value:
			return -1
		case a.Value < b.Value:
			return 1
		}
		return strings.Compare(a.Label, b.Label)
	})
	return rows, nil
}

func (c *Collector) lag(ctx context.Context, s *Snapshot, now time.Time) error {
	frames, err := c.run(ctx, metricdoc.Query{QueryType: metricdoc.QueryLag}, now.Add(-time.Hour), now)
	if err != nil {
		return err
	}
	for _, f := range frames {
		recs, _ := f.FieldByName(string(metricdoc.MeasureLagRecords))
		secs, _ := f.FieldByName(string(metricdoc.MeasureLagSeconds))
		if recs == nil {
			continue
		}
		for i := range recs.Len() {
			s.LagPartitions++
			if v, err := recs.FloatAt(i); err == nil {
				s.LagRecords += int64(v)
			}
			if secs != nil {
				if v, ok := secs.ConcreteAt(i); ok {
					s.LagSeconds, s.lagSecondsKnown = max(s.LagSeconds, v.(float64)), true
				}
			}
		}
	}
	return nil
}

func (c *Collector) freshness(ctx context.Context, s *Snapshot, now time.Time) error {
	frames, err := c.run(ctx, metricdoc.Query{QueryType: metricdoc.QueryFreshness}, now.Add(-time.Hour), now)
	if err != nil {
		return err
	}
	s.freshnessQueried = true
	bySource := map[string]*Freshness{}
	for _, f := range frames {
		src, _ := f.FieldByName("source")
		age, _ := f.FieldByName("age_seconds")
		if src == nil || age == nil {
			continue
		}
		for i := range src.Len() {
			name, _ := src.ConcreteAt(i)
			secs, _ := age.FloatAt(i)
			d := time.Duration(secs * float64(time.Second))
			fr := bySource[fmt.Sprint(name)]
			if fr == nil {
				fr = &Freshness{Source: fmt.Sprint(name), Newest: d, Stalest: d}
				bySource[fr.Source] = fr
			}
			fr.Newest, fr.Stalest = min(fr.Newest, d), max(fr.Stalest, d)
		}
	}
	for _, src := range []string{metricdoc.SourcePush, metricdoc.SourcePull} {
		if fr := bySource[src]; fr != nil {
			s.Freshness = append(s.Freshness, *fr)
		}
	}
	return nil
}

// IsTerminal reports whether f is a character device (a terminal), where
// the summary is redrawn in place.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Printer writes snapshots to w: a table redrawn in place when tty, one
// plain line each otherwise.
type Printer struct {
	W   io.Writer
	TTY bool
}

// Print writes s.
func (p Printer) Print(s Snapshot) error {
	if !p.TTY {
		_, err := fmt.Fprintln(p.W, s.Line())
		return err
	}
	// Home, clear the screen, draw: log lines written between two
	// snapshots stay visible until the next one.
	_, err := io.WriteString(p.W, "\x1b[H\x1b[2J"+s.Table())
	return err
}

// Line is s as one line of key=value pairs.
func (s Snapshot) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "summary at=%s", s.At.UTC().Format(time.RFC3339))
	for _, r := range s.Rates {
		fmt.Fprintf(&b, " %s_events_per_s=%.1f", r.Source, r.PerSecond)
	}
	fmt.Fprintf(&b, " lag_records=%d", s.LagRecords)
	if s.lagSecondsKnown {
		fmt.Fprintf(&b, " lag_seconds=%.0f", s.LagSeconds)
	}
	for _, f := range s.Freshness {
		fmt.Fprintf(&b, " freshness_%s=%s", f.Source, short(f.Newest))
	}
	fmt.Fprintf(&b, " top_hour=%q top_today=%q", joinRows(s.TopHour), joinRows(s.TopToday))
	for _, p := range s.Problems {
		fmt.Fprintf(&b, " problem=%q", p)
	}
	return b.String()
}

func joinRows(rows []Row) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s: %s", r.Label, number(r.Value))
	}
	return strings.Join(parts, "; ")
}

// Table is s as the terminal summary.
func (s Snapshot) Table() string {
	var b strings.Builder
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	fmt.Fprintf(&b, "campaignpulse run   %s   up %s   (Ctrl-C stops)\n\n", s.At.In(loc).Format("2006-01-02 15:04:05 MST"), short(s.Uptime))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INGEST\tevents/s\ttotal")
	for _, r := range s.Rates {
		fmt.Fprintf(tw, "  %s\t%.1f\t%s\n", r.Source, r.PerSecond, number(r.Total))
	}
	_ = tw.Flush()

	b.WriteString("\n")
	for _, list := range []struct {
		title string
		rows  []Row
	}{{"THIS HOUR", s.TopHour}, {"TODAY", s.TopToday}} {
		fmt.Fprintf(tw, "TOP %d CAMPAIGNS %s\tinstalls\n", s.TopN, list.title)
		if len(list.rows) == 0 {
			fmt.Fprintln(tw, "  (none yet)\t")
		}
		for _, r := range list.rows {
			label := r.Label
			if r.rest {
				label = "(all others)"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", label, number(r.Value))
		}
		_ = tw.Flush()
		b.WriteString("\n")
	}

	fmt.Fprintln(tw, "PIPELINE\t")
	lag := fmt.Sprintf("%s records", number(float64(s.LagRecords)))
	if s.lagSecondsKnown {
		lag += fmt.Sprintf(", oldest unconsumed %s", short(time.Duration(s.LagSeconds*float64(time.Second))))
	}
	fmt.Fprintf(tw, "  consumer lag\t%s (%d partitions)\n", lag, s.LagPartitions)
	if s.freshnessQueried && len(s.Freshness) == 0 {
		fmt.Fprintln(tw, "  freshness\tno event counted yet")
	}
	for _, f := range s.Freshness {
		fmt.Fprintf(tw, "  freshness %s\tnewest event %s ago (stalest app %s)\n", f.Source, short(f.Newest), short(f.Stalest))
	}
	_ = tw.Flush()

	if len(s.Links) > 0 {
		b.WriteString("\n")
		fmt.Fprintln(tw, "TRY\t")
		for _, l := range s.Links {
			fmt.Fprintf(tw, "  %s\t%s\n", l.Name, l.URL)
		}
		_ = tw.Flush()
	}
	for _, p := range s.Problems {
		fmt.Fprintf(&b, "\n! %s", p)
	}
	if len(s.Problems) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// short renders a duration to the second ("42s", "3m5s"), or minute past an hour.
func short(d time.Duration) string {
	if d >= time.Hour {
		return d.Truncate(time.Minute).String()
	}
	return d.Truncate(time.Second).String()
}

// number renders a count without decimals and a fraction with two.
func number(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}
