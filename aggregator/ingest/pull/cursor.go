package pull

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/ingest/internal/committed"
)

// cursorValue is the JSON value of a cursor record. Next is the start of
// the next window to pull: everything before it is committed on raw_events.
type cursorValue struct {
	AppID  string    `json:"app_id"`
	Report string    `json:"report"`
	Next   time.Time `json:"next_from"`
}

func cursorKey(app, report string) string { return app + "|" + report }

func cursorRecord(topic, app, report string, next time.Time) *kgo.Record {
	v, _ := json.Marshal(cursorValue{AppID: app, Report: report, Next: next.UTC()})
	return &kgo.Record{Topic: topic, Key: []byte(cursorKey(app, report)), Value: v}
}

// loadCursors reads the committed cursors (read_committed, up to the last
// stable offset). Call it after the transactional producer initialised its
// producer id: that aborts a crashed predecessor's open transaction, so the
// last stable offset reaches the end of the topic.
func loadCursors(ctx context.Context, adm *kadm.Client, newConsumer func(...kgo.Opt) (*kgo.Client, error), topic string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := committed.Read(ctx, adm, newConsumer, topic, func(r *kgo.Record) {
		var v cursorValue
		if json.Unmarshal(r.Value, &v) == nil && !v.Next.IsZero() {
			out[string(r.Key)] = v.Next
		}
	})
	if err != nil {
		return nil, fmt.Errorf("load pull cursors: %w", err)
	}
	return out, nil
}

// Cursor is the committed position of one app's report: every window
// before Next is on raw_events.
type Cursor struct {
	AppID, Report string
	Next          time.Time
}

// ReadCursors reads the committed cursors for display (campaignpulse
// status), sorted by app and report. It claims no transactional id, so a
// running poller is not disturbed; a poller's open transaction is simply
// not visible yet.
func ReadCursors(ctx context.Context, adm *kadm.Client, newConsumer func(...kgo.Opt) (*kgo.Client, error), topic string) ([]Cursor, error) {
	m, err := loadCursors(ctx, adm, newConsumer, topic)
	if err != nil {
		return nil, err
	}
	out := make([]Cursor, 0, len(m))
	for key, next := range m {
		i := strings.LastIndexByte(key, '|')
		if i < 0 {
			continue
		}
		out = append(out, Cursor{AppID: key[:i], Report: key[i+1:], Next: next})
	}
	slices.SortFunc(out, func(a, b Cursor) int { return cmp.Or(cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.Report, b.Report)) })
	return out, nil
}
