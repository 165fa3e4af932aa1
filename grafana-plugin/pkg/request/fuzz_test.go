package request

import (
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// FuzzParse feeds arbitrary query JSON, as a dashboard, an API caller or an
// alert rule could send it, to Parse: it must never panic, and whatever it
// accepts must be a query the builders can use safely: a known type, known
// dimensions only, and no value that MongoDB could read as an operator.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"refId":"A","queryType":"metrics","measure":"installs","granularity":"auto","filters":{"campaign":["a","b"],"app_id":"$__all"},"groupBy":["media_source"],"topN":5}`))
	f.Add([]byte(`{"queryType":"metrics","filters":{"campaign":["${__from:date:iso}"]},"cumulative":true,"format":"table"}`))
	f.Add([]byte(`{"queryType":"lag","consumerGroup":"g","topic":"raw_events","measure":"lag_seconds"}`))
	f.Add([]byte(`{"queryType":"freshness"}`))
	f.Add([]byte(`{"queryType":"variables","dimension":"campaign","filters":{"app_id":["{a,b}"]}}`))
	f.Add([]byte(`{"queryType":"metrics","filters":{"$where":["1"]}}`))
	f.Add([]byte(`{"queryType":"metrics","filters":{"campaign":[{"$ne":1}]}}`))
	from := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, js []byte) {
		q, err := Parse(backend.DataQuery{RefID: "A", JSON: js, Interval: time.Minute, MaxDataPoints: 500,
			TimeRange: backend.TimeRange{From: from, To: from.Add(24 * time.Hour)}}, Defaults{ConsumerGroup: "g"})
		if err != nil {
			return
		}
		known := false
		for _, qt := range metricdoc.QueryTypes {
			known = known || q.Type == qt
		}
		if !known {
			t.Fatalf("accepted unknown query type %q from %s", q.Type, js)
		}
		for dim, vals := range q.Filters {
			if !metricdoc.IsDimension(dim) {
				t.Fatalf("accepted unknown dimension %q from %s", dim, js)
			}
			for _, v := range vals {
				if strings.HasPrefix(v, "$") {
					t.Fatalf("accepted operator-like value %q from %s", v, js)
				}
			}
		}
		for _, g := range q.GroupBy {
			if !metricdoc.IsDimension(g) {
				t.Fatalf("accepted unknown group-by %q from %s", g, js)
			}
		}
	})
}
