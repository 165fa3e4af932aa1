package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

// ExampleNewDatasource runs the datasource in-process, as the all-in-one
// binary does: settings as Grafana would provision them, then QueryData.
func ExampleNewDatasource() {
	ctx := context.Background()
	ds, err := plugin.NewDatasource(ctx, plugin.InstanceSettings(
		plugin.Settings{KafkaBrokers: "127.0.0.1:9092", TimeZone: "UTC"},
		map[string]string{plugin.SecureMongoURI: "mongodb://127.0.0.1:27017"},
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ds.Dispose()
	q, _ := json.Marshal(map[string]any{"queryType": "metrics", "measure": "installs", "groupBy": []string{"campaign"}, "topN": 10})
	now := time.Now()
	resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", JSON: q, TimeRange: backend.TimeRange{From: now.Add(-24 * time.Hour), To: now}, MaxDataPoints: 1000, Interval: time.Minute,
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(resp.Responses["A"].Frames))
}
