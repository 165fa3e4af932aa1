package provisioning_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental/datasourcetest"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// TestProvisionedQueriesRun sends every dashboard panel query, every
// dashboard variable query and every alert-rule query through the plugin's
// QueryData over the SDK's gRPC stack, configured from the provisioned
// jsonData, against FerretDB and kfake seeded with known data. Each must answer without error, in the
// frame shape its panel or alert rule needs, with the seeded totals.
func TestProvisionedQueriesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB and kfake")
	}
	w := load(t)
	ctx := t.Context()
	now := time.Now().UTC()

	m := embeddedtest.Mongo(t)
	k := embeddedtest.Kafka(t, kfake.SeedTopics(-1))

	settings := provisionedSettings(t, w)
	settings.KafkaBrokers = strings.Join(k.Brokers(), ",")
	// FerretDB here has no users: connect without the provisioned credentials.
	settings.MongoUsername, settings.MongoAuthSource = "", ""
	tr := seedWorld(t, m.URI(), settings.MongoDatabase, k.Brokers(), settings.KafkaConsumerGroup, now)

	// The SDK's gRPC server and client in-process, with the plugin's real
	// instance factory: settings travel as Grafana sends them (jsonData
	// bytes + decrypted secure map), through proto conversion, the SDK
	// middlewares and instance management.
	tp, err := datasourcetest.Manage(plugin.Factory, datasourcetest.ManageOpts{Address: embeddedtest.FreeAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tp.Shutdown() }()
	jsonData, _ := json.Marshal(settings)
	pctx := backend.PluginContext{
		OrgID:    1,
		PluginID: plugin.PluginID,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: 1, UID: "campaignpulse", Name: "campaignpulse", Type: plugin.PluginID, Updated: now,
			JSONData: jsonData, DecryptedSecureJSONData: map[string]string{plugin.SecureMongoURI: m.URI()},
		},
	}

	run := func(t *testing.T, dq backend.DataQuery, headers map[string]string) data.Frames {
		t.Helper()
		resp, err := tp.Client.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pctx, Headers: headers, Queries: []backend.DataQuery{dq}})
		if err != nil {
			t.Fatal(err)
		}
		r := resp.Responses[dq.RefID]
		if r.Error != nil {
			t.Fatalf("query %s: %v (status %d)\n%s", dq.RefID, r.Error, r.Status, dq.JSON)
		}
		return r.Frames
	}

	for _, d := range w.dashboards {
		from, to := resolveRange(t, d.Time.From, now), now
		for _, v := range d.Templating.List {
			t.Run(d.file+"/variable "+v.Name, func(t *testing.T) {
				var raw map[string]any
				_ = json.Unmarshal(v.Query, &raw)
				frames := run(t, dataQuery(raw, "", from, to), nil)
				values := checkVariableFrame(t, frames)
				if want := len(tr.Values(v.Name)); len(values) != want || want == 0 {
					t.Errorf("%d values %v, want the %d seeded ones", len(values), values, want)
				}
			})
		}
		for _, p := range d.allPanels() {
			if p.Type == "row" || (p.Datasource != nil && p.Datasource.UID == promUID) {
				continue // Prometheus panels: checked against docs/metrics.md in TestDashboards
			}
			pFrom := from
			if p.TimeFrom != "" {
				pFrom = resolveRange(t, p.TimeFrom, now)
			}
			var columns []string // display names of every target's columns, for sortBy
			for _, js := range p.Targets {
				var raw map[string]any
				_ = json.Unmarshal(js, &raw)
				q := decodeModel(t, p.Title, raw)
				t.Run(fmt.Sprintf("%s/%s/%s", d.file, p.Title, raw["refId"]), func(t *testing.T) {
					frames := run(t, dataQuery(raw, "", pFrom, to), nil)
					checkPanelFrames(t, q, frames)
					columns = append(columns, displayNames(frames)...)
					if q.QueryType == metricdoc.QueryMetrics && q.Format == metricdoc.FormatTable && p.TimeFrom == "now/d" {
						checkTodayTotal(t, q, frames, tr)
						if q.Measure == metricdoc.MeasureInstalls && slices.Equal(q.Filters[metricdoc.DimApp], []string{"$app_id"}) {
							// $app_id on one app narrows the total to that app.
							app := seedApps[1]
							one := run(t, dataQueryWith(raw, map[string]string{"app_id": app}, "", pFrom, to), nil)
							installs := metricdoc.MeasureTable[0]
							if got, want, all := numericSum(t, one, ""), tr.today(installs, app), tr.today(installs); got != want || want == 0 || want == all {
								t.Errorf("installs today of %s = %v, seeded %v (of %v in all)", app, got, want, all)
							}
						}
					}
					if q.QueryType == metricdoc.QueryLag {
						checkLag(t, q, frames, tr, now)
					}
					if q.QueryType == metricdoc.QueryFreshness {
						checkFreshness(t, q, frames, tr, now)
					}
					if raw["live"] == true {
						checkSubscribe(t, jsonData, m.URI(), raw, to.Sub(pFrom))
					}
				})
			}
			// A table sorts by a column's display name (the field config's), not its
			// field name; a name that matches no column leaves it unsorted, silently.
			for _, s := range p.Options.SortBy {
				if !slices.Contains(columns, s.DisplayName) {
					t.Errorf("%s: panel %q sorts by %q, which is no column's display name (%v)", d.file, p.Title, s.DisplayName, columns)
				}
			}
			// Overrides by name match the display name too.
			for _, o := range p.FieldConfig.Overrides {
				if name, ok := o.Matcher.Options.(string); ok && o.Matcher.ID == "byName" && !slices.Contains(columns, name) {
					t.Errorf("%s: panel %q overrides field %q, which is no column's display name (%v)", d.file, p.Title, name, columns)
				}
			}
		}
	}

	for _, f := range w.alerts {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				for _, n := range r.Data {
					if n.DatasourceUID == exprUID || n.DatasourceUID == promUID {
						continue // PromQL nodes are checked statically (TestAlertRules)
					}
					t.Run("alert "+r.UID+"/"+n.RefID, func(t *testing.T) {
						model := map[string]any{"datasource": map[string]any{"type": plugin.PluginID, "uid": n.DatasourceUID}}
						for k, v := range n.Model {
							model[k] = v
						}
						from := now.Add(-time.Duration(n.RelativeTimeRange.From) * time.Second)
						to := now.Add(-time.Duration(n.RelativeTimeRange.To) * time.Second)
						frames := run(t, dataQuery(model, n.QueryType, from, to), map[string]string{backend.FromAlertHeaderName: "true"})
						checkAlertShape(t, frames)
						firing := evaluate(t, r, n.RefID, frames)
						if want := wantFiring[r.UID]; !slices.Equal(firing, want) {
							t.Errorf("on the seeded world the rule fires for %v, want %v", firing, want)
						}
						q := decodeModel(t, n.RefID, n.Model)
						if q.QueryType == metricdoc.QueryLag {
							checkLag(t, q, frames, tr, now)
						}
						if q.QueryType == metricdoc.QueryFreshness {
							checkFreshness(t, q, frames, tr, now)
						}
					})
				}
			}
		}
	}
}

// checkSubscribe subscribes to a live panel's channel the way the frontend
// does (datasource.ts stream): "All" filters dropped, path
// "metrics/<range seconds>/<base64url of the query>" if the whole channel
// "ds/<uid>/<path>" fits Grafana Live's 255 characters, else an opaque
// "metrics/<id>"; the query always also goes as subscription data.
func checkSubscribe(t *testing.T, jsonData []byte, mongoURI string, raw map[string]any, span time.Duration) {
	t.Helper()
	model := asSent(raw)
	for _, k := range []string{"refId", "datasource", "hide", "key"} {
		delete(model, k)
	}
	if filters, ok := model["filters"].(map[string]any); ok {
		for dim, v := range filters {
			if vs, _ := v.([]any); len(vs) == 1 && vs[0] == request.AllValue {
				delete(filters, dim)
			}
		}
		if len(filters) == 0 {
			delete(model, "filters")
		}
	}
	js, _ := json.Marshal(model)
	full := "metrics/" + strconv.FormatInt(int64(span/time.Second), 10) + "/" + base64.RawURLEncoding.EncodeToString(js)
	if channel := "ds/campaignpulse/" + full; len(channel) > 255 {
		t.Errorf("channel %s is %d characters: Grafana Live refuses more than 255, the panel would show the 24 h fallback", channel, len(channel))
	}
	inst := plugin.InstanceSettings(plugin.Settings{}, map[string]string{plugin.SecureMongoURI: mongoURI})
	inst.JSONData = jsonData
	ds, err := plugin.NewDatasource(t.Context(), inst)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Dispose()
	for _, path := range []string{full, "metrics/0123456789abcdef"} {
		resp, err := ds.SubscribeStream(t.Context(), &backend.SubscribeStreamRequest{Path: path, Data: js})
		if err != nil || resp.Status != backend.SubscribeStreamStatusOK {
			t.Errorf("subscribe %s: status %v, err %v", path, resp, err)
		}
	}
}

// wantFiring is which series each provisioned rule fires for on the seeded
// world: partition 0 is 6 records and 10 minutes behind, one app's newest
// event is 30 minutes old and the other's 2 hours.
var wantFiring = map[string][]string{
	"campaignpulse-lag-records": nil,
	"campaignpulse-lag-seconds": {"partition=0,topic=raw_events"},
	// The app whose newest events are 2 hours old: silence for push, but
	// within what pulling with a delay and hourly windows leaves (2 h 10 min).
	"campaignpulse-freshness-push": {"app_id=id123456,source=push"},
	"campaignpulse-freshness-pull": nil,
}

// evaluate runs a rule's reduce and threshold expressions the way Grafana's
// server-side expressions do for numeric-long data (one series per row,
// labelled by its string columns) and returns the firing series, sorted.
// Only the expression types and options the provisioned rules use are
// understood; anything else fails the test.
func evaluate(t *testing.T, r alertRule, queryRef string, frames data.Frames) []string {
	t.Helper()
	values := map[string]map[string]float64{} // refId -> series -> value
	series := map[string]float64{}
	f := frames[0]
	for row := range f.Rows() {
		var labels []string
		var v *float64
		for _, fl := range f.Fields {
			if isNumeric(fl) {
				if x, err := fl.NullableFloatAt(row); err == nil && x != nil {
					v = x
				}
				continue
			}
			labels = append(labels, fmt.Sprintf("%s=%v", fl.Name, fl.At(row)))
		}
		slices.Sort(labels)
		key := strings.Join(labels, ",")
		if v == nil {
			series[key] = math.NaN()
		} else {
			series[key] = *v
		}
	}
	values[queryRef] = series
	var firing []string
	for _, n := range r.Data {
		if n.DatasourceUID != exprUID {
			continue
		}
		in := values[n.Model["expression"].(string)]
		out := map[string]float64{}
		switch n.Model["type"] {
		case "reduce":
			// One value per series: last (and every other reducer) of a
			// single point is that point; dropNN drops a null point.
			if red := n.Model["reducer"]; !slices.Contains([]any{"last", "max", "min", "mean", "sum"}, red) {
				t.Fatalf("reducer %v not understood here", red)
			}
			mode, _ := n.Model["settings"].(map[string]any)["mode"].(string)
			for k, v := range in {
				if math.IsNaN(v) && mode == "dropNN" {
					continue
				}
				out[k] = v
			}
		case "threshold":
			ev := n.Model["conditions"].([]any)[0].(map[string]any)["evaluator"].(map[string]any)
			limit := toFloat(ev["params"].([]any)[0])
			for k, v := range in {
				switch ev["type"] {
				case "gt":
					out[k] = b2f(v > limit)
				case "lt":
					out[k] = b2f(v < limit)
				default:
					t.Fatalf("threshold type %v not understood here", ev["type"])
				}
			}
		default:
			t.Fatalf("expression type %v not understood here", n.Model["type"])
		}
		values[n.RefID] = out
	}
	for k, v := range values[r.Condition] {
		if v != 0 {
			firing = append(firing, k)
		}
	}
	slices.Sort(firing)
	return firing
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func provisionedSettings(t *testing.T, w *world) plugin.Settings {
	t.Helper()
	for _, f := range w.dsFiles {
		for _, ds := range f.Datasources {
			if ds.Type == plugin.PluginID {
				js, _ := json.Marshal(expandedJSONData(ds.JSONData))
				var s plugin.Settings
				if err := json.Unmarshal(js, &s); err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
	}
	t.Fatal("no campaignpulse datasource provisioned")
	return plugin.Settings{}
}

// dataQuery builds the request Grafana sends for a target: the target as
// the frontend interpolated it (variables on All), plus intervalMs and
// maxDataPoints, and the time range.
func dataQuery(raw map[string]any, queryType string, from, to time.Time) backend.DataQuery {
	return dataQueryWith(raw, nil, queryType, from, to)
}

// dataQueryWith is dataQuery with some variables set to one value.
func dataQueryWith(raw map[string]any, values map[string]string, queryType string, from, to time.Time) backend.DataQuery {
	q := asSentWith(raw, values)
	const maxDataPoints = 1000
	interval := max(to.Sub(from)/maxDataPoints, time.Second)
	q["intervalMs"] = interval.Milliseconds()
	q["maxDataPoints"] = maxDataPoints
	q["datasourceId"] = 1
	ref, _ := q["refId"].(string)
	if ref == "" {
		ref = "A"
		q["refId"] = ref
	}
	js, _ := json.Marshal(q)
	return backend.DataQuery{RefID: ref, QueryType: queryType, JSON: js, TimeRange: backend.TimeRange{From: from, To: to},
		Interval: interval, MaxDataPoints: maxDataPoints}
}

var relative = regexp.MustCompile(`^(?:now-)?(\d+)([mhdw])$`)

// resolveRange turns Grafana's relative "from" (now-24h, now/d, 7d) into a
// time, in UTC like the provisioned datasource and dashboards' day windows.
func resolveRange(t *testing.T, from string, now time.Time) time.Time {
	t.Helper()
	if from == "now/d" {
		return metricdoc.WindowStart(metricdoc.Day, now, time.UTC)
	}
	m := relative.FindStringSubmatch(from)
	if m == nil {
		t.Fatalf("cannot resolve time %q", from)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return now.Add(-time.Duration(n) * unit)
}

func isNumeric(f *data.Field) bool { return f.Type().Numeric() }

func checkVariableFrame(t *testing.T, frames data.Frames) []string {
	t.Helper()
	if len(frames) != 1 || len(frames[0].Fields) != 2 || frames[0].Fields[0].Name != "text" || frames[0].Fields[1].Name != "value" {
		t.Fatalf("variable frames %v, want one text/value frame", frameShapes(frames))
	}
	var out []string
	for i := range frames[0].Rows() {
		out = append(out, fmt.Sprint(frames[0].Fields[1].At(i)))
	}
	return out
}

// checkPanelFrames checks the frame type each query type and format
// promises, which is what the panels are configured for.
func checkPanelFrames(t *testing.T, q metricdoc.Query, frames data.Frames) {
	t.Helper()
	if len(frames) == 0 {
		t.Fatal("no frames")
	}
	want := data.FrameTypeNumericLong
	if q.QueryType == metricdoc.QueryMetrics {
		switch q.Format {
		case "", metricdoc.FormatTimeSeries:
			want = data.FrameTypeTimeSeriesWide
		case metricdoc.FormatTimeSeriesLong:
			want = data.FrameTypeTimeSeriesLong
		}
	}
	for _, f := range frames {
		if f.Meta == nil || f.Meta.Type != want {
			t.Errorf("frame %q: type %v, want %s (%s)", f.Name, f.Meta, want, frameShapes(frames))
			continue
		}
		switch want {
		case data.FrameTypeTimeSeriesWide:
			if f.Fields[0].Type() != data.FieldTypeTime || len(f.Fields) < 2 || f.Rows() == 0 {
				t.Errorf("frame %q: want a time field then values, with rows: %s", f.Name, frameShapes(frames))
			}
			for _, fl := range f.Fields[1:] {
				if !isNumeric(fl) {
					t.Errorf("frame %q: field %q is %s, want numeric", f.Name, fl.Name, fl.Type())
				}
			}
			if len(q.GroupBy) > 0 && len(f.Fields) < 2 {
				t.Errorf("grouped by %v but one series", q.GroupBy)
			}
			if q.TopN > 0 && len(f.Fields)-1 > q.TopN+1 {
				t.Errorf("top %d: %d series (at most N plus other)", q.TopN, len(f.Fields)-1)
			}
		case data.FrameTypeNumericLong:
			if f.Rows() == 0 {
				t.Errorf("frame %q has no rows", f.Name)
			}
		}
	}
}

// checkAlertShape: numeric-long data as alerting reads it — string label
// columns, exactly one numeric column, each row's label set unique.
func checkAlertShape(t *testing.T, frames data.Frames) {
	t.Helper()
	if len(frames) != 1 {
		t.Fatalf("alert query returned %d frames, want 1: %s", len(frames), frameShapes(frames))
	}
	f := frames[0]
	if f.Meta == nil || f.Meta.Type != data.FrameTypeNumericLong {
		t.Errorf("frame type %v, want %s", f.Meta, data.FrameTypeNumericLong)
	}
	numeric := 0
	var labels []int
	for i, fl := range f.Fields {
		switch {
		case isNumeric(fl):
			numeric++
		case fl.Type() == data.FieldTypeString || fl.Type() == data.FieldTypeNullableString:
			labels = append(labels, i)
		default:
			t.Errorf("field %q is %s: alerting accepts only string labels and numbers", fl.Name, fl.Type())
		}
	}
	if numeric != 1 {
		t.Errorf("%d numeric fields, alerting needs exactly one: %s", numeric, frameShapes(frames))
	}
	if f.Rows() == 0 {
		t.Error("no rows: the rule would go to NoData on seeded data")
	}
	seen := map[string]bool{}
	for r := range f.Rows() {
		var key bytes.Buffer
		for _, i := range labels {
			fmt.Fprintf(&key, "%s=%v,", f.Fields[i].Name, f.Fields[i].At(r))
		}
		if seen[key.String()] {
			t.Errorf("label set %s appears twice; alerting rejects duplicate series", key.String())
		}
		seen[key.String()] = true
	}
}

func numericSum(t *testing.T, frames data.Frames, name string) float64 {
	t.Helper()
	sum := 0.0
	found := false
	for _, f := range frames {
		for _, fl := range f.Fields {
			if !isNumeric(fl) || (name != "" && fl.Name != name) {
				continue
			}
			found = true
			for i := range fl.Len() {
				if v, ok := fl.ConcreteAt(i); ok {
					x, err := fl.FloatAt(i)
					if err != nil {
						t.Fatalf("field %s row %d (%v): %v", fl.Name, i, v, err)
					}
					sum += x
				}
			}
		}
	}
	if !found {
		t.Fatalf("no numeric field %q in %s", name, frameShapes(frames))
	}
	return sum
}

// checkTodayTotal: a "today" table query, whatever its grouping, adds up to
// the seeded total of the day so far (variables on All filter nothing).
func checkTodayTotal(t *testing.T, q metricdoc.Query, frames data.Frames, tr seeded) {
	t.Helper()
	spec := metricdoc.MeasureTable[0] // the default measure
	if q.Measure != "" {
		var ok bool
		if spec, ok = metricdoc.LookupMeasure(q.Measure); !ok {
			t.Fatalf("unknown measure %q", q.Measure)
		}
	}
	want := tr.today(spec)
	if want == 0 {
		t.Fatalf("%s today: the seeded world has none, the check would prove nothing", q.Measure)
	}
	if got := numericSum(t, frames, ""); math.Abs(got-want) > 1e-6*max(1, want) {
		t.Errorf("%s today = %v, seeded %v", q.Measure, got, want)
	}
}

func checkLag(t *testing.T, q metricdoc.Query, frames data.Frames, tr seeded, now time.Time) {
	t.Helper()
	if q.Measure == "" || q.Measure == metricdoc.MeasureLagRecords {
		if got, want := numericSum(t, frames, string(metricdoc.MeasureLagRecords)), tr.lag.Total(); got != float64(want) || want == 0 {
			t.Errorf("lag_records sum %v, seeded %d", got, want)
		}
	}
	if q.Measure == "" || q.Measure == metricdoc.MeasureLagSeconds {
		// The age of each lagging partition's oldest unconsumed record at
		// seeding; it grows with the wall clock until the query (which a
		// loaded machine stretches), plus a minute.
		want := 0.0
		for p := range tr.lag.Records {
			want += tr.lag.Seconds(p, now)
		}
		got := numericSum(t, frames, string(metricdoc.MeasureLagSeconds))
		if slack := float64(len(tr.lag.Oldest)) * (time.Since(now).Seconds() + 60); want == 0 || got < want-1 || got > want+slack {
			t.Errorf("lag_seconds sum %v, want %v to %v", got, want, want+slack)
		}
	}
}

func checkFreshness(t *testing.T, q metricdoc.Query, frames data.Frames, tr seeded, now time.Time) {
	t.Helper()
	// A source filter keeps the seeded documents of those sources.
	rows, want := 0, 0.0
	for _, f := range tr.Freshness {
		if s := q.Filters["source"]; len(s) == 0 || slices.Contains(s, f.Source) {
			rows++
			want += now.Sub(f.LastEventAt).Seconds()
		}
	}
	if n := frames[0].Rows(); n != rows || rows == 0 {
		t.Errorf("%d freshness rows, want %d of the %d seeded", n, rows, len(tr.Freshness))
	}
	got := numericSum(t, frames, "age_seconds")
	// Ages grow with the wall clock between seeding and this query, which a
	// loaded machine stretches: allow that much per row, plus a minute.
	if slack := float64(frames[0].Rows()) * (time.Since(now).Seconds() + 60); math.Abs(got-want) > slack {
		t.Errorf("age_seconds sum %v, want about %v", got, want)
	}
}

// displayNames are the column names Grafana shows for frames: the field
// config's display name where the plugin sets one, else the field name.
func displayNames(frames data.Frames) []string {
	var names []string
	for _, f := range frames {
		for _, fld := range f.Fields {
			name := fld.Name
			if c := fld.Config; c != nil && c.DisplayNameFromDS != "" {
				name = c.DisplayNameFromDS
			} else if c != nil && c.DisplayName != "" {
				name = c.DisplayName
			}
			names = append(names, name)
		}
	}
	return names
}

func frameShapes(frames data.Frames) string {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "[%s rows=%d", f.Name, f.Rows())
		if f.Meta != nil {
			fmt.Fprintf(&b, " type=%s", f.Meta.Type)
		}
		for _, fl := range f.Fields {
			fmt.Fprintf(&b, " %s:%s", fl.Name, fl.Type())
		}
		b.WriteString("] ")
	}
	return b.String()
}
