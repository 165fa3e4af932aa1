package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/frames"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// Streaming: a Grafana Live channel per query. The path is
// "metrics/<range seconds>/<base64url(query JSON)>" (see StreamPath); the
// stream shows the windows of the last <range> and sends the whole frame
// whenever a window changes, so the panel uses the Replace buffer action.
const (
	streamPrefix  = "metrics/"
	maxStreamSpan = 31 * 24 * time.Hour
	// streamTick is how often changes are batched into one frame; well
	// inside the one-second live budget.
	streamTick = 200 * time.Millisecond
	// updateSkew: updates for a window are produced after the window
	// starts; an hour of margin covers producer clock skew.
	updateSkew = time.Hour
	// defaultSpan is what a stream shows when its path has no range.
	defaultSpan = 24 * time.Hour
	// catchUpLimit bounds how long the first frame waits for the backlog.
	catchUpLimit = 2 * time.Second
)

// StreamPath is the Live channel path for a metrics query showing the last
// span of windows. Grafana's channel paths allow [A-Za-z0-9_=./-], hence
// base64url without padding.
func StreamPath(q metricdoc.Query, span time.Duration) (string, error) {
	if q.QueryType == "" {
		q.QueryType = metricdoc.QueryMetrics
	}
	js, err := json.Marshal(q)
	if err != nil {
		return "", fmt.Errorf("stream path: %w", err)
	}
	return streamPrefix + strconv.FormatInt(int64(span/time.Second), 10) + "/" + base64.RawURLEncoding.EncodeToString(js), nil
}

// parseStream validates a channel like a query, with the range ending
// now. Two path forms are accepted: "metrics/<seconds>/<base64url(JSON)>"
// (StreamPath), and "metrics/<id>" with the query JSON in the subscription
// data, as the frontend sends it; the latter shows the last defaultSpan.
func (ds *Datasource) parseStream(path string, payload []byte) (request.Query, time.Duration, error) {
	rest, ok := strings.CutPrefix(path, streamPrefix)
	if !ok || rest == "" {
		return request.Query{}, 0, request.Errorf("stream path must start with %q", streamPrefix)
	}
	span := defaultSpan
	js := payload
	if secs, enc, encoded := strings.Cut(rest, "/"); encoded {
		n, err := strconv.ParseInt(secs, 10, 64)
		if err != nil || n <= 0 || time.Duration(n)*time.Second > maxStreamSpan {
			return request.Query{}, 0, request.Errorf("stream path range %q is not 1..%d seconds", secs, int64(maxStreamSpan/time.Second))
		}
		if js, err = base64.RawURLEncoding.DecodeString(enc); err != nil {
			return request.Query{}, 0, request.Errorf("stream path query is not base64url: %v", err)
		}
		span = time.Duration(n) * time.Second
	} else if len(js) == 0 {
		return request.Query{}, 0, request.Errorf("stream %q carries no query: encode it in the path or send it as subscription data", path)
	}
	now := ds.now()
	q, err := request.Parse(backend.DataQuery{RefID: "stream", JSON: js, TimeRange: backend.TimeRange{From: now.Add(-span), To: now}}, request.Defaults{})
	if err != nil {
		return request.Query{}, 0, err
	}
	if q.Type != metricdoc.QueryMetrics {
		return request.Query{}, 0, request.Errorf("only metrics queries stream, not %s", q.Type)
	}
	return q, span, nil
}

// SubscribeStream accepts any valid metrics channel path.
func (ds *Datasource) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if _, _, err := ds.parseStream(req.Path, req.Data); err != nil {
		ds.log.Debug("subscribe rejected", "path", req.Path, "err", err)
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// PublishStream is refused: the channels are read-only.
func (ds *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream follows aggregated_metrics from just before the oldest window
// shown and sends a frame whenever the shown windows change, until Grafana
// cancels ctx (the last subscriber left).
func (ds *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	q, span, err := ds.parseStream(req.Path, req.Data)
	if err != nil {
		return err
	}
	oldest := metricdoc.WindowStart(q.Granularity, ds.now().Add(-span), ds.cfg.loc)
	opts := append(append([]kgo.Opt(nil), ds.kafkaOpt...),
		kgo.ConsumeTopics(ds.cfg.KafkaAggregatedTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(oldest.Add(-updateSkew).UnixMilli())),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("stream consumer: %w", err)
	}
	defer cl.Close()

	f := newFollower(q)
	sp := spec(q)
	var lastWindows []time.Time
	dirty, sent := false, false
	// The first frame waits until the backlog is read (a poll that times
	// out empty) or catchUpLimit passed, so it does not show partial sums.
	caughtUp, catchUpEnd := false, time.Now().Add(catchUpLimit)
	next := time.Now()
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, streamTick)
		fetches := cl.PollFetches(pctx)
		cancel()
		if fetches.NumRecords() == 0 || time.Now().After(catchUpEnd) {
			caughtUp = true
		}
		fetches.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil && pctx.Err() == nil {
				ds.log.Warn("stream fetch", "topic", t, "partition", p, "err", err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			var u metricdoc.Update
			if err := json.Unmarshal(r.Value, &u); err != nil {
				return // not an Update; the aggregator owns the topic
			}
			if f.apply(&u) {
				dirty = true
			}
		})
		if !caughtUp || (time.Now().Before(next) && sent) {
			continue
		}
		windows := streamWindows(q.Granularity, ds.now(), span, ds.cfg.loc)
		if !dirty && sent && sameWindows(windows, lastWindows) {
			continue
		}
		f.prune(windows[0])
		fr := frames.Metrics(sp, windows, f.rows())[0]
		if err := sender.SendFrame(fr, data.IncludeAll); err != nil {
			return fmt.Errorf("send stream frame: %w", err)
		}
		lastWindows, dirty, sent = windows, false, true
		next = time.Now().Add(streamTick)
	}
	return nil
}

func streamWindows(g metricdoc.Granularity, now time.Time, span time.Duration, loc *time.Location) []time.Time {
	w, err := pipeline.Windows(g, now.Add(-span), now, loc)
	if err != nil || len(w) == 0 {
		return []time.Time{metricdoc.WindowStart(g, now, loc).UTC()}
	}
	return w
}

func sameWindows(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
