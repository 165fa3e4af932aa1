package plugin

import (
	"cmp"
	"context"
	"slices"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/frames"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// queryFreshness reports, per app and source, the seconds since the newest
// event the aggregator counted (filtered by app and by source: the alert
// rules hold push and pull to different thresholds). The collection holds one small document per
// (app, source), so it is read whole and filtered here.
func (ds *Datasource) queryFreshness(ctx context.Context, q request.Query) (data.Frames, error) {
	docs, err := readAll[metricdoc.Freshness](ctx, ds, metricdoc.CollFreshness, "freshness")
	if err != nil {
		return nil, err
	}
	apps, byApp := q.Filters[metricdoc.DimApp]
	sources, bySource := q.Filters[request.FilterSource]
	now := ds.now()
	rows := make([]frames.FreshnessRow, 0, len(docs))
	for _, d := range docs {
		if (byApp && !slices.Contains(apps, d.AppID)) || (bySource && !slices.Contains(sources, d.Source)) {
			continue
		}
		rows = append(rows, frames.FreshnessRow{AppID: d.AppID, Source: d.Source, Seconds: max(now.Sub(d.LastEventAt).Seconds(), 0)})
	}
	slices.SortFunc(rows, func(a, b frames.FreshnessRow) int {
		return cmp.Or(cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.Source, b.Source))
	})
	return data.Frames{frames.Freshness(rows)}, nil
}
