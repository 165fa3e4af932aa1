package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/frames"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

func (ds *Datasource) queryMetrics(ctx context.Context, q request.Query) (data.Frames, error) {
	plan, fin, err := ds.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	var rows []pipeline.Row
	var executed []string
	for _, part := range plan.Parts {
		r, err := ds.aggregate(ctx, part, q.GroupBy, plan.Timed)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
		executed = append(executed, fmt.Sprintf("%s: %d rows", part.Collection, len(r)))
	}
	fs := frames.Metrics(spec(q), plan.Windows, rows)
	for _, f := range fs {
		f.Meta.ExecutedQueryString = fmt.Sprintf("%s windows, finalized through %s; %s",
			plan.Granularity, formatTime(fin), strings.Join(executed, "; "))
	}
	return fs, nil
}

func spec(q request.Query) frames.Spec {
	return frames.Spec{RefID: q.RefID, Measure: q.Measure, GroupBy: q.GroupBy, TopN: q.TopN, Cumulative: q.Cumulative, Format: q.Format}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
