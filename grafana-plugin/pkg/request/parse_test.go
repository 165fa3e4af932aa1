package request

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

var (
	from = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	to   = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
)

func dq(js string) backend.DataQuery {
	return backend.DataQuery{RefID: "A", JSON: []byte(js), TimeRange: backend.TimeRange{From: from, To: to}, Interval: time.Minute, MaxDataPoints: 1000}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		js   string
		want Query
	}{
		{
			name: "grafana fields and defaults",
			js:   `{"refId":"A","datasource":{"type":"campaignpulse-metrics-datasource","uid":"cp"},"intervalMs":60000,"maxDataPoints":1000,"hide":false,"key":"Q-1","datasourceId":3,"queryCachingTTL":0}`,
			want: Query{Type: metricdoc.QueryMetrics, Measure: metricdoc.MeasureInstalls, Granularity: metricdoc.Hour, Format: metricdoc.FormatTimeSeries},
		},
		{
			name: "fields a newer Grafana adds to targets are ignored",
			js:   `{"refId":"A","editorMode":"builder","timeRange":{"from":"now-6h","to":"now"},"panelId":7,"queryType":"metrics","measure":"events"}`,
			want: Query{Type: metricdoc.QueryMetrics, Measure: metricdoc.MeasureEvents, Granularity: metricdoc.Hour, Format: metricdoc.FormatTimeSeries},
		},
		{
			name: "filters expand macros and multi-value variables",
			js:   `{"queryType":"metrics","measure":"events","granularity":"day","filters":{"campaign":["{b,a}","promo-${__to:date:YYYY-MM-DD}","a"],"app_id":"[\"id1\",\"id2\"]","platform":["$__all"]},"groupBy":["campaign"],"topN":5,"cumulative":true,"format":"table"}`,
			want: Query{
				Type: metricdoc.QueryMetrics, Measure: metricdoc.MeasureEvents, Granularity: metricdoc.Day, Format: metricdoc.FormatTable,
				Filters: map[string][]string{"campaign": {"a", "b", "promo-2026-11-26"}, "app_id": {"id1", "id2"}},
				GroupBy: []string{"campaign"}, TopN: 5, Cumulative: true,
			},
		},
		{
			name: "revenue always groups by currency",
			js:   `{"measure":"revenue","groupBy":["media_source"]}`,
			want: Query{Type: metricdoc.QueryMetrics, Measure: metricdoc.MeasureRevenue, Granularity: metricdoc.Hour, Format: metricdoc.FormatTimeSeries, GroupBy: []string{"media_source", "currency"}},
		},
		{
			name: "lag defaults",
			js:   `{"queryType":"lag"}`,
			want: Query{Type: metricdoc.QueryLag, ConsumerGroup: "agg", Topic: metricdoc.TopicRawEvents},
		},
		{
			name: "variables filtered by another dimension",
			js:   `{"queryType":"variables","dimension":"campaign","filters":{"app_id":["x"]}}`,
			want: Query{Type: metricdoc.QueryVariables, Dimension: "campaign", Filters: map[string][]string{"app_id": {"x"}}},
		},
		{
			name: "freshness by app",
			js:   `{"queryType":"freshness","filters":{"app_id":["x"]}}`,
			want: Query{Type: metricdoc.QueryFreshness, Filters: map[string][]string{"app_id": {"x"}}},
		},
		{
			name: "freshness by source",
			js:   `{"queryType":"freshness","filters":{"source":"pull"}}`,
			want: Query{Type: metricdoc.QueryFreshness, Filters: map[string][]string{"source": {"pull"}}},
		},
		{
			name: "storage",
			js:   `{"queryType":"storage"}`,
			want: Query{Type: metricdoc.QueryStorage},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(dq(tt.js), Defaults{ConsumerGroup: "agg"})
			if err != nil {
				t.Fatal(err)
			}
			tt.want.RefID, tt.want.From, tt.want.To, tt.want.Interval, tt.want.MaxDataPoints = "A", from, to, time.Minute, 1000
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	many := `"` + strings.Repeat(`v","`, MaxValues) + `v"`
	tests := []struct {
		name, js, want string
	}{
		{"operator as filter key", `{"filters":{"$where":["1"]}}`, `filter key "$where" starts with '$'`},
		{"operator object as value", `{"filters":{"campaign":{"$ne":""}}}`, "filters.campaign must be a list of strings"},
		{"operator string as value", `{"filters":{"campaign":["$gt"]}}`, `filters.campaign value "$gt" starts with '$'`},
		{"unexpanded variable", `{"filters":{"campaign":["$campaign"]}}`, `value "$campaign" starts with '$'`},
		{"unknown dimension", `{"filters":{"country":["DE"]}}`, `filter key "country" is not a dimension`},
		{"misspelled field", `{"measures":"installs"}`, `unknown query field "measures" (did you mean "measure"?)`},
		{"field in another case", `{"group_by":["campaign"]}`, `unknown query field "group_by" (did you mean "groupBy"?)`},
		{"field two edits away", `{"cumulativ":true,"formt":"table"}`, `unknown query field`},
		{"wrong type", `{"topN":"5"}`, `query field "topN" must be of type int`},
		{"oversized list", `{"filters":{"campaign":[` + many + `]}}`, "more than the limit of 1000"},
		{"unknown measure", `{"measure":"clicks"}`, `measure "clicks" is not one of`},
		{"unknown group by", `{"groupBy":["$meta"]}`, `groupBy "$meta" starts with '$'`},
		{"duplicate group by", `{"groupBy":["campaign","campaign"]}`, "twice"},
		{"unknown granularity", `{"granularity":"minute"}`, `granularity "minute"`},
		{"negative top n", `{"topN":-1}`, "topN -1 is out of range"},
		{"unknown query type", `{"queryType":"sql"}`, `queryType "sql" is not one of`},
		{"variables without dimension", `{"queryType":"variables"}`, "dimension is required"},
		{"lag with bad topic", `{"queryType":"lag","topic":"a b"}`, `topic "a b" is not a valid`},
		{"field of another type", `{"queryType":"lag","groupBy":["campaign"]}`, "groupBy is not used by lag queries"},
		{"storage with filters", `{"queryType":"storage","filters":{"app_id":["x"]}}`, "filters are not used by storage queries"},
		{"storage with measure", `{"queryType":"storage","measure":"installs"}`, "measure is not used by storage queries"},
		{"trailing data", `{} {}`, "trailing data"},
		{"freshness of an unknown source", `{"queryType":"freshness","filters":{"source":["email"]}}`, `filters.source value "email" is not push or pull`},
		{"source filter outside freshness", `{"filters":{"source":["push"]}}`, `filter key "source" is not a dimension`},
		{"empty filter", `{"filters":{"campaign":[]}}`, "filters.campaign is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(dq(tt.js), Defaults{ConsumerGroup: "agg"})
			if err == nil || !IsBadRequest(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a bad request containing %q", err, tt.want)
			}
		})
	}
	q := dq(`{}`)
	q.TimeRange.From = to
	if _, err := Parse(q, Defaults{}); err == nil || !strings.Contains(err.Error(), "time range is empty") {
		t.Fatalf("from >= to: err = %v", err)
	}
}

func TestAuto(t *testing.T) {
	for _, tt := range []struct {
		rng, interval time.Duration
		mdp           int64
		want          metricdoc.Granularity
	}{
		{24 * time.Hour, time.Minute, 1000, metricdoc.Hour},
		{90 * 24 * time.Hour, time.Hour, 1000, metricdoc.Day},
		{7 * 24 * time.Hour, 24 * time.Hour, 1000, metricdoc.Day},
		{30 * 24 * time.Hour, time.Hour, 0, metricdoc.Hour},
	} {
		if got := Auto(tt.rng, tt.interval, tt.mdp); got != tt.want {
			t.Errorf("Auto(%v, %v, %d) = %s, want %s", tt.rng, tt.interval, tt.mdp, got, tt.want)
		}
	}
}
