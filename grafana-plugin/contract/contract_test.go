package contract

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/storeusage"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/seed"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

func TestCheckHealth(t *testing.T) {
	h := need(t)
	ctx := context.Background()
	check := func(id int64, db string, tz ...string) *backend.CheckHealthResult {
		pc := h.pluginContext(id, db)
		if len(tz) > 0 {
			pc = h.pluginContextIn(id, db, tz[0])
		}
		resp, err := h.diag.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pc)})
		if err != nil {
			t.Fatalf("CheckHealth over gRPC: %v", err)
		}
		return backend.FromProto().CheckHealthResponse(resp)
	}
	good := check(1, database)
	for _, want := range []string{"hourly_metrics: regular collection", "live_metrics: no TTL index on expire_at", // FerretDB has no TTL indexes
		"finalized through " + h.world.FinalizedThrough(metricdoc.Hour).Format(time.RFC3339) + " (hour)", "Kafka: 1 broker"} {
		if good.Status != backend.HealthStatusOk || !strings.Contains(good.Message, want) {
			t.Errorf("seeded database: %v %q lacks %q", good.Status, good.Message, want)
		}
	}
	// The seeded aggregator cut its days in UTC (its checkpoints say so).
	berlin := check(3, database, "Europe/Berlin")
	if berlin.Status != backend.HealthStatusError || !strings.Contains(berlin.Message, `time zone mismatch: jsonData.timeZone is "Europe/Berlin" but the aggregator cuts day windows in UTC`) {
		t.Errorf("datasource in another zone than the aggregator: %v %q", berlin.Status, berlin.Message)
	}
	bad := check(2, "empty_db")
	if bad.Status != backend.HealthStatusError || !strings.Contains(bad.Message, `"empty_db" lacks collection(s) live_metrics, hourly_metrics, daily_metrics, checkpoints, freshness`) {
		t.Errorf("empty database: %v %q", bad.Status, bad.Message)
	}
}

// TestMetricsHourlyAcrossLiveAndFinal checks every (window, campaign) total
// exactly: hours before the minimum finalized-through come from
// hourly_metrics, the rest from live_metrics, and finalized copies still
// in live_metrics are not counted twice.
func TestMetricsHourlyAcrossLiveAndFinal(t *testing.T) {
	h := need(t)
	s := h.world
	r := h.query(t, nil, map[string]any{"queryType": "metrics", "measure": "installs", "granularity": "hour", "groupBy": []string{"campaign"}}, s.FirstHour, s.Now)
	frames := ok(t, r)
	if len(frames) != 1 || frames[0].Meta.Type != data.FrameTypeTimeSeriesWide {
		t.Fatalf("want one wide frame, got %d", len(frames))
	}
	f := frames[0]
	if f.Rows() != hoursSeeded {
		t.Fatalf("rows = %d, want %d windows", f.Rows(), hoursSeeded)
	}
	got := seriesByDisplay(t, f)
	campaigns := map[string]bool{}
	for _, c := range s.Cells {
		if c.Meta.EventName == metricdoc.InstallEventName {
			campaigns[c.Meta.Campaign] = true
		}
	}
	if len(got) != len(campaigns) {
		t.Fatalf("series %v, want campaigns %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(campaigns)))
	}
	for camp := range campaigns {
		for i := range hoursSeeded {
			w := s.FirstHour.Add(time.Duration(i) * time.Hour)
			want := s.events(func(c *seed.Cell) bool {
				return c.Granularity == metricdoc.Hour && c.Window.Equal(w) && c.Meta.Campaign == camp && c.Meta.EventName == metricdoc.InstallEventName
			})
			if got[camp][i] != want {
				t.Errorf("campaign %s window %s: %d, want %d", camp, w.Format(time.RFC3339), got[camp][i], want)
			}
		}
	}
	if q := f.Meta.ExecutedQueryString; !strings.Contains(q, metricdoc.CollHourly) || !strings.Contains(q, metricdoc.CollLive) {
		t.Errorf("executed query %q does not read both collections", q)
	}
}

// TestMetricsAlertWithMacros sends a query as an alert rule does: header
// FromAlert, Grafana's own fields in the model, a macro in a filter value
// that only the backend can expand, and a table with one numeric column.
func TestMetricsAlertWithMacros(t *testing.T) {
	h := need(t)
	s := h.world
	model := map[string]any{
		"refId": "A", "datasource": map[string]string{"type": plugin.PluginID, "uid": "cp1"},
		"intervalMs": 60000, "maxDataPoints": 43200,
		"queryType": "metrics", "measure": "installs", "granularity": "hour", "format": "table",
		// Bare $__from and ${__from:...} must be expanded in the backend too:
		// left as is they would be rejected as unexpanded variables.
		"filters": map[string][]string{
			"campaign": {"promo-${__to:date:YYYY-MM-DD}", "since-${__from:date:seconds}"},
			"app_id":   {"id2", "none-$__from-$__interval_ms"},
		},
	}
	r := h.query(t, map[string]string{backend.FromAlertHeaderName: "true"}, model, s.FirstHour, s.Now)
	f := ok(t, r)[0]
	if numericColumns(f) != 1 || f.Rows() != 1 {
		t.Fatalf("alert table: %d numeric columns, %d rows; want 1 and 1", numericColumns(f), f.Rows())
	}
	want := s.events(func(c *seed.Cell) bool {
		return c.Granularity == metricdoc.Hour && c.Meta.Campaign == s.promo && c.Meta.EventName == metricdoc.InstallEventName
	})
	if got := f.Fields[0].At(0).(int64); got != want || want == 0 {
		t.Errorf("installs of %s = %d, want %d", s.promo, got, want)
	}

	// Without the macro expanded the value would be rejected, never sent.
	model["filters"] = map[string][]string{"campaign": {"$campaign"}}
	bad := h.query(t, map[string]string{backend.FromAlertHeaderName: "true"}, model, s.FirstHour, s.Now)
	if bad.Status != backend.StatusBadRequest || !strings.Contains(bad.Error.Error(), `"$campaign" starts with '$'`) {
		t.Errorf("unexpanded variable: status %d, err %v", bad.Status, bad.Error)
	}
}

func TestMetricsDailyRevenueTable(t *testing.T) {
	h := need(t)
	s := h.world
	from := s.Today.AddDate(0, 0, -2)
	f := ok(t, h.query(t, nil, map[string]any{"queryType": "metrics", "measure": "revenue", "granularity": "day", "format": "table"}, from, s.Now))[0]
	cur, _ := f.FieldByName(metricdoc.DimCurrency)
	if cur == nil || f.Rows() != 2 {
		t.Fatalf("want rows per currency, got %d rows", f.Rows())
	}
	for i := range f.Rows() {
		code := cur.At(i).(string)
		want := float64(s.Sum(func(c *seed.Cell) bool {
			return c.Granularity == metricdoc.Day && !c.Window.Before(from) && c.Meta.Currency == code
		}).RevenueMicros) / 1e6
		if got := f.Fields[1].At(i).(float64); got != want {
			t.Errorf("revenue %s = %v, want %v", code, got, want)
		}
	}
}

func TestMetricsTopNCumulativeLong(t *testing.T) {
	h := need(t)
	s := h.world
	f := ok(t, h.query(t, nil, map[string]any{
		"queryType": "metrics", "measure": "events", "granularity": "hour", "groupBy": []string{"event_name"},
		"topN": 1, "cumulative": true, "format": "time_series_long",
	}, s.FirstHour, s.Now))[0]
	if f.Meta.Type != data.FrameTypeTimeSeriesLong || f.Rows() != 2*hoursSeeded {
		t.Fatalf("want a long frame with %d rows, got %s with %d", 2*hoursSeeded, f.Meta.Type, f.Rows())
	}
	total := func(name string) int64 {
		return s.events(func(c *seed.Cell) bool {
			return c.Granularity == metricdoc.Hour && c.Meta.EventName != metricdoc.InstallEventName && (name == "" || c.Meta.EventName == name)
		})
	}
	last := f.Rows() - 2
	names, values := f.Fields[1], f.Fields[2]
	if names.At(last) != "purchase" || names.At(last+1) != "other" {
		t.Fatalf("last window series: %v, %v", names.At(last), names.At(last+1))
	}
	if got := values.At(last).(int64); got != total("purchase") {
		t.Errorf("cumulative purchase = %d, want %d", got, total("purchase"))
	}
	if got := values.At(last + 1).(int64); got != total("")-total("purchase") {
		t.Errorf("cumulative other = %d, want %d", got, total("")-total("purchase"))
	}
}

func TestLag(t *testing.T) {
	h := need(t)
	s := h.world
	f := ok(t, h.query(t, nil, map[string]any{"queryType": "lag"}, s.FirstHour, s.Now))[0]
	if f.Rows() != 3 {
		t.Fatalf("lag rows = %d, want 3 partitions", f.Rows())
	}
	recs, _ := f.FieldByName(string(metricdoc.MeasureLagRecords))
	secs, _ := f.FieldByName(string(metricdoc.MeasureLagSeconds))
	for i := range 3 {
		p := int32(i)
		if got := recs.At(i).(int64); got != s.lag.Records[p] {
			t.Errorf("partition %d lag = %d records, want %d", p, got, s.lag.Records[p])
		}
		sec, okv := secs.ConcreteAt(i)
		if !okv {
			t.Errorf("partition %d: lag seconds missing", p)
			continue
		}
		min := 0.0
		if ts, lagging := s.lag.Oldest[p]; lagging {
			min = s.Now.Sub(ts).Seconds()
		}
		if got := sec.(float64); got < min || got > min+120 {
			t.Errorf("partition %d lag = %.1f s, want %.0f..%.0f", p, got, min, min+120)
		}
	}
	alert := ok(t, h.query(t, map[string]string{backend.FromAlertHeaderName: "true"}, map[string]any{"queryType": "lag", "measure": "lag_seconds"}, s.FirstHour, s.Now))[0]
	if numericColumns(alert) != 1 {
		t.Errorf("lag_seconds table has %d numeric columns, want 1", numericColumns(alert))
	}
}

func TestFreshness(t *testing.T) {
	h := need(t)
	s := h.world
	f := ok(t, h.query(t, nil, map[string]any{"queryType": "freshness", "filters": map[string][]string{"app_id": {"id1"}}}, s.FirstHour, s.Now))[0]
	if f.Rows() != 2 || numericColumns(f) != 1 {
		t.Fatalf("freshness: %d rows, %d numeric columns; want 2 and 1", f.Rows(), numericColumns(f))
	}
	want := map[string]float64{metricdoc.SourcePull: 3600, metricdoc.SourcePush: 30}
	for i := range 2 {
		src := f.Fields[1].At(i).(string)
		age := f.Fields[2].At(i).(float64)
		if age < want[src] || age > want[src]+120 {
			t.Errorf("id1/%s age = %.1f s, want about %.0f", src, age, want[src])
		}
	}
}

// TestStorage: one row per collection with the seeded document counts; on
// FerretDB the metric collections are expired by the aggregator itself.
func TestStorage(t *testing.T) {
	h := need(t)
	s := h.world
	f := ok(t, h.query(t, nil, map[string]any{"queryType": "storage"}, s.FirstHour, s.Now))[0]
	if f.Rows() != len(storeusage.Collections) {
		t.Fatalf("storage: %d rows, want one per collection (%d)", f.Rows(), len(storeusage.Collections))
	}
	col := func(name string) *data.Field {
		fld, _ := f.FieldByName(name)
		if fld == nil {
			t.Fatalf("storage frame lacks field %q", name)
		}
		return fld
	}
	for i := range f.Rows() {
		name := col("collection").At(i).(string)
		if got, want := col("documents").At(i).(int64), s.Stored[name]; got != want {
			t.Errorf("%s: %d documents, want %d", name, got, want)
		}
		if size := col("storage_bytes").At(i).(int64); size <= 0 {
			t.Errorf("%s: storage_bytes %d, want > 0", name, size)
		}
		wantExpiry := string(storeusage.ExpiryNone)
		if name == metricdoc.CollLive || name == metricdoc.CollHourly || name == metricdoc.CollDaily {
			wantExpiry = string(storeusage.ExpiryApplication)
		}
		if got := col("expiry").At(i).(string); got != wantExpiry {
			t.Errorf("%s: expiry %q, want %q", name, got, wantExpiry)
		}
	}
	r := h.query(t, nil, map[string]any{"queryType": "storage", "filters": map[string][]string{"app_id": {"id1"}}}, s.FirstHour, s.Now)
	if r.Error == nil || r.Status != backend.StatusBadRequest {
		t.Errorf("storage with filters: status %d, err %v; want 400", r.Status, r.Error)
	}
}

func TestVariablesQuery(t *testing.T) {
	h := need(t)
	s := h.world
	f := ok(t, h.query(t, nil, map[string]any{"queryType": "variables", "dimension": "campaign", "filters": map[string][]string{"app_id": {"id1"}}}, s.FirstHour, s.Now))[0]
	var got []string
	for i := range f.Rows() {
		got = append(got, f.Fields[1].At(i).(string))
	}
	if want := []string{"alpha", "beta", "gamma"}; !slices.Equal(got, want) {
		t.Errorf("campaigns of id1 = %v, want %v", got, want)
	}
}

func TestCallResourceVariables(t *testing.T) {
	h := need(t)
	call := func(url string) (int, []byte) {
		path, _, _ := strings.Cut(url, "?")
		req := backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
			PluginContext: h.pluginContext(1, database), Path: path, Method: "GET", URL: url,
		})
		stream, err := h.res.CallResource(context.Background(), req)
		if err != nil {
			t.Fatalf("CallResource over gRPC: %v", err)
		}
		var code int
		var body []byte
		for {
			msg, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("CallResource receive: %v", err)
			}
			if msg.Code != 0 {
				code = int(msg.Code)
			}
			body = append(body, msg.Body...)
		}
		return code, body
	}
	code, body := call("variables?dimension=campaign&app_id=id2")
	var vals []struct{ Text, Value string }
	if err := json.Unmarshal(body, &vals); err != nil || code != 200 {
		t.Fatalf("variables: %d %s (%v)", code, body, err)
	}
	if len(vals) != 2 || vals[0].Value != "beta" || vals[1].Value != h.world.promo {
		t.Errorf("campaigns of id2 = %+v, want beta and %s", vals, h.world.promo)
	}
	code, body = call("variables?dimension=%24where")
	if code != 400 || !strings.Contains(string(body), `dimension \"$where\" starts with '$'`) {
		t.Errorf("operator as dimension: %d %s", code, body)
	}
}

func TestBadRequests(t *testing.T) {
	h := need(t)
	s := h.world
	for name, tc := range map[string]struct {
		model    map[string]any
		from, to time.Time
		want     string
	}{
		"operator key":     {map[string]any{"filters": map[string]any{"$where": []string{"1"}}}, s.FirstHour, s.Now, `filter key "$where"`},
		"operator value":   {map[string]any{"filters": map[string]any{"campaign": map[string]string{"$ne": ""}}}, s.FirstHour, s.Now, "filters.campaign must be a list of strings"},
		"misspelled field": {map[string]any{"groupby": []string{"campaign"}}, s.FirstHour, s.Now, `unknown query field "groupby" (did you mean "groupBy"?)`},
		"empty range":      {map[string]any{"queryType": "metrics"}, s.Now, s.FirstHour, "time range is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			r := h.query(t, nil, tc.model, tc.from, tc.to)
			if r.Status != backend.StatusBadRequest || r.Error == nil || !strings.Contains(r.Error.Error(), tc.want) {
				t.Errorf("status %d err %v; want 400 with %q", r.Status, r.Error, tc.want)
			}
		})
	}
}

// TestRunStream subscribes to a live channel and checks that the frames
// follow aggregated_metrics: newest update per (key, partition), summed
// over partitions, and pushed again when a window changes.
func TestRunStream(t *testing.T) {
	h := need(t)
	s := h.world
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	window := metricdoc.WindowStart(metricdoc.Hour, time.Now(), time.UTC)
	meta := metricdoc.Meta{AppID: "id1", MediaSource: "fb", Campaign: "live-x", Platform: "ios", EventName: metricdoc.InstallEventName}
	upd := func(part int32, events, offset int64) {
		u := metricdoc.Update{Granularity: metricdoc.Hour, WindowStart: window, WindowEnd: window.Add(time.Hour), Meta: meta, Partition: part,
			Totals: metricdoc.Totals{Events: events}, Offset: offset, UpdatedAt: time.Now().UTC()}
		if err := s.produceUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	upd(0, 5, 10)
	upd(0, 7, 20) // newer partial of partition 0 replaces 5
	upd(1, 3, 15)
	upd(1, 1, 5) // older partial arriving late: ignored

	path, err := plugin.StreamPath(metricdoc.Query{Measure: metricdoc.MeasureInstalls, Granularity: "hour", Filters: map[string][]string{"campaign": {"live-x"}}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pc := backend.ToProto().PluginContext(h.pluginContext(1, database))
	sub, err := h.stream.SubscribeStream(ctx, &pluginv2.SubscribeStreamRequest{PluginContext: pc, Path: path})
	if err != nil || sub.Status != pluginv2.SubscribeStreamResponse_OK {
		t.Fatalf("subscribe: %v %v", sub, err)
	}
	badPath, _ := plugin.StreamPath(metricdoc.Query{Filters: map[string][]string{"$where": {"1"}}}, time.Hour)
	bad, err := h.stream.SubscribeStream(ctx, &pluginv2.SubscribeStreamRequest{PluginContext: pc, Path: badPath})
	if err != nil || bad.Status != pluginv2.SubscribeStreamResponse_NOT_FOUND {
		t.Errorf("subscribe to a path with an operator filter must be refused: %v %v", bad, err)
	}
	run, err := h.stream.RunStream(ctx, &pluginv2.RunStreamRequest{PluginContext: pc, Path: path})
	if err != nil {
		t.Fatalf("RunStream: %v", err)
	}
	current := func() int64 {
		pkt, err := run.Recv()
		if err != nil {
			t.Fatalf("stream receive: %v", err)
		}
		var f data.Frame
		if err := json.Unmarshal(pkt.Data, &f); err != nil {
			t.Fatalf("stream packet is not a frame: %v", err)
		}
		times := f.Fields[0]
		for i := range f.Rows() {
			if times.At(i).(time.Time).Equal(window) {
				return f.Fields[1].At(i).(int64)
			}
		}
		t.Fatalf("stream frame has no row for window %s", window)
		return 0
	}
	waitFor := func(want int64) {
		var got int64
		for got != want {
			if got = current(); got > want {
				t.Fatalf("stream total %d overshoots %d", got, want)
			}
		}
	}
	waitFor(10)
	upd(1, 4, 30)
	waitFor(11)

	// The frontend's form: an opaque channel id, the model as subscription
	// data. Its first frame is the stored totals: already 11.
	model := []byte(`{"queryType":"metrics","measure":"installs","granularity":"hour","live":true,"filters":{"campaign":["live-x"]}}`)
	sub, err = h.stream.SubscribeStream(ctx, &pluginv2.SubscribeStreamRequest{PluginContext: pc, Path: "metrics/5e1f00aa", Data: model})
	if err != nil || sub.Status != pluginv2.SubscribeStreamResponse_OK {
		t.Fatalf("subscribe with data: %v %v", sub, err)
	}
	if run, err = h.stream.RunStream(ctx, &pluginv2.RunStreamRequest{PluginContext: pc, Path: "metrics/5e1f00aa", Data: model}); err != nil {
		t.Fatalf("RunStream with data: %v", err)
	}
	if got := current(); got != 11 {
		t.Errorf("first frame of a new subscriber = %d, want 11", got)
	}
}

// TestBinaryRefusesDirectRun: without Grafana's magic cookie the binary
// says it is a plugin and exits non-zero, as go-plugin servers do.
func TestBinaryRefusesDirectRun(t *testing.T) {
	h := need(t)
	cmd := exec.Command(h.bin)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "This binary is a plugin") {
		t.Fatalf("direct run: err %v, output %q", err, out)
	}
}

// TestLagOfGroupWithoutCommits: a group that never committed shows the
// whole retained topic as lag and says so in a notice.
func TestLagOfGroupWithoutCommits(t *testing.T) {
	h := need(t)
	s := h.world
	f := ok(t, h.query(t, nil, map[string]any{"queryType": "lag", "consumerGroup": "nobody", "measure": "lag_records"}, s.FirstHour, s.Now))[0]
	var total int64
	for i := range f.Rows() {
		total += f.Fields[2].At(i).(int64)
	}
	if total != s.lag.Produced || total == 0 {
		t.Errorf("lag of a group without commits = %d, want every record (%d)", total, s.lag.Produced)
	}
	if len(f.Meta.Notices) != 1 || !strings.Contains(f.Meta.Notices[0].Text, `"nobody" has no committed offsets`) {
		t.Errorf("notices = %+v", f.Meta.Notices)
	}
}
