package plugin

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// typesTS holds the frontend's measure list and titles.
const typesTS = "../../src/types.ts"

// frontendMismatch compares the editor's measures (MEASURES and the keyed
// MEASURE_TITLES of types.ts) with table and says what differs; "" when
// they agree. The editor builds its options from exactly these two.
func frontendMismatch(t *testing.T, table []metricdoc.MeasureSpec) string {
	t.Helper()
	src, err := os.ReadFile(typesTS)
	if err != nil {
		t.Fatal(err)
	}
	list := regexp.MustCompile(`export const MEASURES = \[([^\]]*)\] as const`).FindSubmatch(src)
	block := regexp.MustCompile(`(?s)export const MEASURE_TITLES: Record<Measure, string> = \{(.*?)\n\};`).FindSubmatch(src)
	if list == nil || block == nil {
		t.Fatalf("%s has no MEASURES list or MEASURE_TITLES record", typesTS)
	}
	var names []string
	for _, m := range regexp.MustCompile(`'([^']*)'`).FindAllSubmatch(list[1], -1) {
		names = append(names, string(m[1]))
	}
	titles := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+): '([^']*)'`).FindAllSubmatch(block[1], -1) {
		titles[string(m[1])] = string(m[2])
	}
	var want []string
	var problems []string
	for _, s := range table {
		want = append(want, string(s.Name))
		if titles[string(s.Name)] != s.Title {
			problems = append(problems, fmt.Sprintf("MEASURE_TITLES[%s] = %q, table title %q", s.Name, titles[string(s.Name)], s.Title))
		}
	}
	if !slices.Equal(names, want) {
		problems = append(problems, fmt.Sprintf("MEASURES = %v, table has %v", names, want))
	}
	if len(titles) != len(table) {
		problems = append(problems, fmt.Sprintf("MEASURE_TITLES has %d entries, table %d", len(titles), len(table)))
	}
	return strings.Join(problems, "; ")
}

func TestFrontendMeasuresMatchTable(t *testing.T) {
	if p := frontendMismatch(t, metricdoc.MeasureTable); p != "" {
		t.Fatalf("%s differs from metricdoc.MeasureTable: %s", typesTS, p)
	}
}

// TestMeasureAddedOnlyToTable adds a measure to metricdoc.MeasureTable and
// nowhere else: the parser accepts it, the MongoDB pipeline computes it on
// FerretDB, the live follower computes it from aggregated_metrics updates,
// and the editor check names it until types.ts offers it with a title.
func TestMeasureAddedOnlyToTable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	const purchases metricdoc.Measure = "purchases"
	saved := metricdoc.MeasureTable
	metricdoc.MeasureTable = append(slices.Clip(saved), metricdoc.MeasureSpec{
		Name: purchases, Title: "Purchases", Unit: "short", Field: metricdoc.FieldEvents,
		Filter: metricdoc.EventFilter{Dim: metricdoc.DimEventName, Value: "af_purchase"},
	})
	t.Cleanup(func() { metricdoc.MeasureTable = saved })

	w := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tr := backend.TimeRange{From: w.Add(-2 * time.Hour), To: w.Add(2 * time.Hour)}
	model := `{"queryType":"metrics","measure":"purchases","granularity":"hour","format":"table"}`

	// Parser.
	q, err := request.Parse(backend.DataQuery{RefID: "A", JSON: json.RawMessage(model), TimeRange: tr}, request.Defaults{})
	if err != nil || q.Measure != purchases {
		t.Fatalf("parse: %+v %v", q, err)
	}

	// Pipeline, on FerretDB: two partitions of the window, other events beside.
	m := embeddedtest.Mongo(t)
	ds, err := NewDatasource(t.Context(), InstanceSettings(Settings{KafkaBrokers: "127.0.0.1:1"}, map[string]string{SecureMongoURI: m.URI()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Dispose)
	var updates []*metricdoc.Update
	for i, d := range []struct {
		event     string
		partition int32
		n         int64
	}{{"af_purchase", 0, 5}, {"af_purchase", 1, 2}, {"af_login", 0, 7}, {metricdoc.InstallEventName, 1, 3}} {
		meta := metricdoc.Meta{AppID: "a", Campaign: "c", EventName: d.event}
		live := metricdoc.Live{ID: fmt.Sprint(i), Granularity: metricdoc.Hour, WindowStart: w, WindowEnd: w.Add(time.Hour),
			Meta: meta, Partition: d.partition, Totals: metricdoc.Totals{Events: d.n}, Offset: 10}
		if _, err := ds.db.Collection(metricdoc.CollLive).InsertOne(t.Context(), live); err != nil {
			t.Fatal(err)
		}
		updates = append(updates, &metricdoc.Update{Granularity: metricdoc.Hour, WindowStart: w, WindowEnd: w.Add(time.Hour),
			Meta: meta, Partition: d.partition, Totals: live.Totals, Offset: 10})
	}
	for p := range int32(2) {
		cp := metricdoc.Checkpoint{ID: metricdoc.CheckpointID(metricdoc.TopicRawEvents, p), Topic: metricdoc.TopicRawEvents, Partition: p, FinalizedHour: w.Add(-time.Hour)}
		if _, err := ds.db.Collection(metricdoc.CollCheckpoints).InsertOne(t.Context(), cp); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := ds.QueryData(t.Context(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: json.RawMessage(model), TimeRange: tr}}})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Responses["A"]
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	if got := r.Frames[0].Fields[0].At(0).(int64); got != 7 {
		t.Errorf("pipeline: purchases = %d, want 5 + 2", got)
	}

	// Live follower.
	f := newFollower(q)
	for _, u := range updates {
		f.apply(u)
	}
	var sum int64
	for _, row := range f.rows() {
		sum += row.Value
	}
	if sum != 7 {
		t.Errorf("follower: purchases = %d, want 5 + 2", sum)
	}

	// Editor: types.ts must offer it, with its title, or this check fails.
	if p := frontendMismatch(t, metricdoc.MeasureTable); !strings.Contains(p, string(purchases)) {
		t.Errorf("the editor check does not notice a measure missing from types.ts: %q", p)
	}
}
