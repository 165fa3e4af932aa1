package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/aggregator/storeusage"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/frames"
)

// queryStorage reports what each campaignpulse collection occupies and how
// it expires, for the "watch MongoDB disk usage" panel.
func (ds *Datasource) queryStorage(ctx context.Context) (data.Frames, error) {
	ctx, cancel := context.WithTimeout(ctx, ds.cfg.maxTime)
	defer cancel()
	rows, err := storeusage.Read(ctx, ds.db)
	if err != nil {
		return nil, downstream("read storage usage", err)
	}
	return data.Frames{frames.Storage(rows)}, nil
}
