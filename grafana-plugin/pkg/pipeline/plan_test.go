package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/golden"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

func planJSON(t *testing.T, p Plan) []byte {
	t.Helper()
	var out bytes.Buffer
	fmt.Fprintf(&out, "granularity: %s\nwindows: %d", p.Granularity, len(p.Windows))
	if len(p.Windows) > 0 {
		fmt.Fprintf(&out, " (%s .. %s)", p.Windows[0].Format(time.RFC3339), p.Windows[len(p.Windows)-1].Format(time.RFC3339))
	}
	out.WriteString("\n")
	for _, part := range p.Parts {
		b, err := bson.MarshalExtJSON(bson.D{{Key: "pipeline", Value: part.Pipeline}}, false, false)
		if err != nil {
			t.Fatal(err)
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "collection: %s\n%s\n", part.Collection, ind.Bytes())
	}
	return out.Bytes()
}

func TestPlanGolden(t *testing.T) {
	from := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
	to := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	finalized := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	base := request.Query{Type: metricdoc.QueryMetrics, Measure: metricdoc.MeasureInstalls, Granularity: metricdoc.Hour, Format: metricdoc.FormatTimeSeries, From: from, To: to}
	tests := []struct {
		name      string
		edit      func(q *request.Query)
		finalized time.Time
		loc       *time.Location
	}{
		{"installs_hourly_split", func(q *request.Query) {
			q.Filters = map[string][]string{metricdoc.DimApp: {"id1"}, metricdoc.DimCampaign: {"a", "b"}}
			q.GroupBy = []string{metricdoc.DimCampaign}
		}, finalized, time.UTC},
		{"events_daily_all_final", func(q *request.Query) {
			q.Measure, q.Granularity = metricdoc.MeasureEvents, metricdoc.Day
			q.Filters = map[string][]string{metricdoc.DimEventName: {"install", "purchase"}}
			q.GroupBy = []string{metricdoc.DimEventName, metricdoc.DimPlatform}
		}, to.Add(48 * time.Hour), berlin},
		{"revenue_table_nothing_final", func(q *request.Query) {
			q.Measure, q.Format = metricdoc.MeasureRevenue, metricdoc.FormatTable
			q.GroupBy = []string{metricdoc.DimCurrency}
		}, time.Time{}, time.UTC},
		{"installs_filter_without_install_matches_nothing", func(q *request.Query) {
			q.Measure, q.Granularity = metricdoc.MeasureInstalls, metricdoc.Day
			q.Filters = map[string][]string{metricdoc.DimEventName: {"purchase"}}
		}, finalized, time.UTC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := base
			tt.edit(&q)
			p, err := NewPlan(q, tt.finalized, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "plan_"+tt.name+".txt", planJSON(t, p))
		})
	}
}

func TestPlanSplitCoversEveryWindowOnce(t *testing.T) {
	from := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	to := from.Add(72 * time.Hour)
	for _, fin := range []time.Time{{}, from.Add(-time.Hour), from, from.Add(5 * time.Hour), to, to.Add(time.Hour)} {
		q := request.Query{Measure: metricdoc.MeasureInstalls, Granularity: metricdoc.Hour, From: from, To: to}
		p, err := NewPlan(q, fin, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		var covered time.Duration
		for _, part := range p.Parts {
			ws := part.Pipeline[0][0].Value.(bson.D)
			rng := ws[len(ws)-1].Value.(bson.D)
			covered += rng[1].Value.(time.Time).Sub(rng[0].Value.(time.Time))
		}
		if covered != to.Sub(from) {
			t.Errorf("finalized %v: parts cover %v, want %v", fin, covered, to.Sub(from))
		}
	}
}

func TestPlanRejectsHugeRange(t *testing.T) {
	q := request.Query{Measure: metricdoc.MeasureInstalls, Granularity: metricdoc.Hour, From: time.Unix(0, 0), To: time.Unix(0, 0).Add(MaxWindows*time.Hour + time.Hour)}
	if _, err := NewPlan(q, time.Time{}, time.UTC); err == nil || !strings.Contains(err.Error(), "granularity day") {
		t.Fatalf("err = %v", err)
	}
}
