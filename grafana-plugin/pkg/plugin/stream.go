package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/v2/mongo"

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
	// updateSkew: the stream reads updates produced from this long before
	// its MongoDB snapshot, a margin for clocks of aggregator, broker and
	// plugin that disagree; replaying them is harmless (offset-guarded).
	updateSkew = time.Minute
	// defaultSpan is what a stream shows when its path has no range.
	defaultSpan = 24 * time.Hour
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

// RunStream opens with the answer QueryData gives for the same span, read
// from MongoDB, then follows aggregated_metrics and sends the whole frame
// whenever a shown window changes, until Grafana cancels ctx (the last
// subscriber left).
//
// The consumer is positioned before MongoDB is read: the aggregator
// publishes a window's update only after writing its document, so an update
// the snapshot missed is produced after the consumer's start and is read;
// an update the snapshot already holds carries an offset no newer than the
// stored document's and changes nothing. So the first frame is never a
// partial total, whatever the span (aggregated_metrics keeps 24 h, spans go
// up to 31 days).
func (ds *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	q, span, err := ds.parseStream(req.Path, req.Data)
	if err != nil {
		return err
	}
	// The start is a timestamp, resolved by the first fetch: how long the
	// snapshot takes does not move it.
	opts := append(append([]kgo.Opt(nil), ds.kafkaOpt...),
		kgo.ConsumeTopics(ds.cfg.KafkaAggregatedTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(ds.now().Add(-updateSkew).UnixMilli())),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("stream consumer: %w", err)
	}
	defer cl.Close()

	f := newFollower(q)
	windows, err := ds.seedFollower(ctx, q, f)
	if err != nil {
		return err
	}
	sp := spec(q)
	if err := sender.SendFrame(frames.Metrics(sp, windows, f.rows())[0], data.IncludeAll); err != nil {
		return fmt.Errorf("send stream frame: %w", err)
	}
	lastWindows, dirty := windows, false
	next := time.Now().Add(streamTick)
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, streamTick)
		fetches := cl.PollFetches(pctx)
		cancel()
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
		if time.Now().Before(next) {
			continue
		}
		windows := streamWindows(q.Granularity, ds.now(), span, ds.cfg.loc)
		if !dirty && sameWindows(windows, lastWindows) {
			continue
		}
		f.prune(windows[0])
		fr := frames.Metrics(sp, windows, f.rows())[0]
		if err := sender.SendFrame(fr, data.IncludeAll); err != nil {
			return fmt.Errorf("send stream frame: %w", err)
		}
		lastWindows, dirty = windows, false
		next = time.Now().Add(streamTick)
	}
	return nil
}

// seedFollower loads into f the documents QueryData sums for q: the same
// plan (finalized windows from the time-series collection, the rest from
// live_metrics) and the same $match, without the $group, so each (window,
// dimensions, partition) arrives with its offset and later updates can
// replace it. It returns the plan's windows.
func (ds *Datasource) seedFollower(ctx context.Context, q request.Query, f *follower) ([]time.Time, error) {
	plan, _, err := ds.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, part := range plan.Parts {
		if len(part.Pipeline) == 0 || len(part.Pipeline[0]) == 0 || part.Pipeline[0][0].Key != "$match" {
			return nil, fmt.Errorf("stream seed: the %s plan does not start with $match", part.Collection)
		}
		if err := ds.seedPart(ctx, part.Collection, mongo.Pipeline{part.Pipeline[0]}, q.Granularity, f); err != nil {
			return nil, err
		}
	}
	if len(plan.Windows) == 0 {
		return streamWindows(q.Granularity, q.To, q.To.Sub(q.From), ds.cfg.loc), nil
	}
	return plan.Windows, nil
}

// seedDoc is what the stream needs of a live or a finalized document.
type seedDoc struct {
	WindowStart time.Time        `bson:"window_start"`
	WindowEnd   time.Time        `bson:"window_end"`
	Meta        metricdoc.Meta   `bson:"meta"`
	Partition   int32            `bson:"partition"`
	Totals      metricdoc.Totals `bson:",inline"`
	Offset      int64            `bson:"offset"`
}

func (ds *Datasource) seedPart(ctx context.Context, coll string, p mongo.Pipeline, g metricdoc.Granularity, f *follower) error {
	ctx, cancel := context.WithTimeout(ctx, ds.cfg.maxTime)
	defer cancel()
	cur, err := ds.db.Collection(coll).Aggregate(ctx, p, ds.aggregateOptions())
	if err != nil {
		return downstream("stream seed "+coll, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	live := coll == metricdoc.CollLive
	for cur.Next(ctx) {
		var d seedDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("stream seed %s: %w", coll, err)
		}
		u := metricdoc.Update{Granularity: g, WindowStart: d.WindowStart.UTC(), WindowEnd: d.WindowEnd.UTC(),
			Meta: d.Meta, Partition: d.Partition, Totals: d.Totals, Offset: d.Offset}
		if !live {
			// A finalized window no longer changes: no update replaces it.
			u.Offset, u.Final = math.MaxInt64, true
		}
		f.seed(&u)
	}
	if err := cur.Err(); err != nil {
		return downstream("stream seed "+coll, err)
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
