package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/aggregator/grouplag"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/frames"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// lagTimeout bounds a whole lag query, including reading the oldest
// unconsumed records.
const lagTimeout = 10 * time.Second

func (ds *Datasource) queryLag(ctx context.Context, q request.Query) (data.Frames, error) {
	ctx, cancel := context.WithTimeout(ctx, lagTimeout)
	defer cancel()
	rows, committed, err := ds.lag(ctx, q.ConsumerGroup, q.Topic)
	if err != nil {
		return nil, err
	}
	f := frames.Lag(rows, q.Measure)
	f.Meta.ExecutedQueryString = fmt.Sprintf("consumer group %q, topic %q", q.ConsumerGroup, q.Topic)
	if !committed {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("consumer group %q has no committed offsets on %s: lag counts from the log start", q.ConsumerGroup, q.Topic)})
	}
	return data.Frames{f}, nil
}

// lag reads the group's lag on every partition of topic (grouplag.Read).
func (ds *Datasource) lag(ctx context.Context, group, topic string) (rows []frames.LagRow, committed bool, err error) {
	res, err := grouplag.Read(ctx, ds.admin, group, topic, grouplag.Options{ConsumerOpts: ds.kafkaOpt, Now: ds.now})
	if errors.Is(err, grouplag.ErrUnknownTopic) {
		return nil, false, request.Errorf("topic %q does not exist", topic)
	}
	if err != nil {
		return nil, false, downstream("consumer lag", err)
	}
	rows = make([]frames.LagRow, len(res.Partitions))
	for i, p := range res.Partitions {
		rows[i] = frames.LagRow{Topic: topic, Partition: p.Partition, Records: p.Records, Seconds: p.Seconds}
	}
	return rows, res.Committed, nil
}
