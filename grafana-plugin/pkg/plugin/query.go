package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// QueryData answers each query independently: one bad query gets its own
// error response and does not fail the others.
func (ds *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	fromAlert := req.GetHTTPHeader(backend.FromAlertHeaderName) == "true"
	for _, dq := range req.Queries {
		frames, err := ds.query(ctx, dq)
		if err != nil {
			if !request.IsBadRequest(err) {
				ds.log.Warn("query failed", "ref_id", dq.RefID, "from_alert", fromAlert, "err", err)
			}
			resp.Responses[dq.RefID] = errorResponse(err)
			continue
		}
		resp.Responses[dq.RefID] = backend.DataResponse{Frames: frames}
	}
	return resp, nil
}

func (ds *Datasource) query(ctx context.Context, dq backend.DataQuery) (data.Frames, error) {
	q, err := request.Parse(dq, request.Defaults{ConsumerGroup: ds.cfg.KafkaConsumerGroup, Topic: ds.cfg.KafkaRawTopic})
	if err != nil {
		return nil, err
	}
	var frames data.Frames
	switch q.Type {
	case metricdoc.QueryMetrics:
		frames, err = ds.queryMetrics(ctx, q)
	case metricdoc.QueryLag:
		frames, err = ds.queryLag(ctx, q)
	case metricdoc.QueryFreshness:
		frames, err = ds.queryFreshness(ctx, q)
	case metricdoc.QueryVariables:
		frames, err = ds.queryVariables(ctx, q)
	case metricdoc.QueryStorage:
		frames, err = ds.queryStorage(ctx)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range frames {
		f.RefID = q.RefID
	}
	return frames, nil
}

// errorResponse maps an error to a response: user mistakes are 400, peer
// failures are downstream errors (502, or 504 for timeouts), the rest is
// the plugin's own fault.
func errorResponse(err error) backend.DataResponse {
	switch {
	case request.IsBadRequest(err):
		return backend.ErrDataResponse(backend.StatusBadRequest, err.Error())
	case errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err):
		return backend.ErrDataResponseWithSource(backend.StatusTimeout, backend.ErrorSourceDownstream, err.Error())
	case errors.Is(err, context.Canceled):
		return backend.ErrDataResponseWithSource(backend.StatusTimeout, backend.ErrorSourceDownstream, err.Error())
	case backend.IsDownstreamError(err):
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	}
	return backend.ErrDataResponse(backend.StatusInternal, err.Error())
}

// downstream marks err as a failure of MongoDB or Kafka.
func downstream(op string, err error) error {
	return backend.DownstreamError(fmt.Errorf("%s: %w", op, err))
}
