package pull

import (
	"cmp"
	"context"
	"encoding/hex"
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
// Partial, on the record of every transaction of a window but its last,
// says how much of the window [Next, Partial.To) is committed so far; the
// last transaction writes the cursor without it. Readers that know only
// next_from read both shapes correctly.
type cursorValue struct {
	AppID   string    `json:"app_id"`
	Report  string    `json:"report"`
	Next    time.Time `json:"next_from"`
	Partial *partial  `json:"partial,omitempty"`
}

// partial is the committed prefix of a window produced in several
// transactions: its first Records spooled records (dead letters included),
// whose frames hash to SHA256. A retry whose download starts with the same
// frames produces only the rest.
type partial struct {
	To      time.Time `json:"to"`
	Records int       `json:"records"`
	SHA256  string    `json:"frames_sha256"`
}

// stored is what the cursor topic holds for one app and report.
type stored struct {
	next    time.Time
	partial *partial // nil unless a window is committed in part
}

func cursorKey(app, report string) string { return app + "|" + report }

func cursorRecord(topic, app, report string, next time.Time) *kgo.Record {
	return cursorRecordOf(topic, cursorValue{AppID: app, Report: report, Next: next.UTC()})
}

// partialRecord records that the first records of window [from, to),
// hashing to sum, are committed; the cursor stays at from.
func partialRecord(topic, app, report string, from, to time.Time, records int, sum []byte) *kgo.Record {
	return cursorRecordOf(topic, cursorValue{AppID: app, Report: report, Next: from.UTC(),
		Partial: &partial{To: to.UTC(), Records: records, SHA256: hex.EncodeToString(sum)}})
}

func cursorRecordOf(topic string, v cursorValue) *kgo.Record {
	b, _ := json.Marshal(v)
	return &kgo.Record{Topic: topic, Key: []byte(cursorKey(v.AppID, v.Report)), Value: b}
}

// loadCursors reads the committed cursors (read_committed, up to the last
// stable offset); the last record of each key wins. Call it after the
// transactional producer initialised its producer id: that aborts a crashed
// predecessor's open transaction, so the last stable offset reaches the end
// of the topic.
func loadCursors(ctx context.Context, adm *kadm.Client, newConsumer func(...kgo.Opt) (*kgo.Client, error), topic string) (map[string]stored, error) {
	out := map[string]stored{}
	err := committed.Read(ctx, adm, newConsumer, topic, func(r *kgo.Record) {
		var v cursorValue
		if json.Unmarshal(r.Value, &v) == nil && !v.Next.IsZero() {
			out[string(r.Key)] = stored{next: v.Next, partial: v.Partial}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("load pull cursors: %w", err)
	}
	return out, nil
}

// Cursor is the committed position of one app's report: every window
// before Next is on raw_events. PartialRecords > 0: the window starting at
// Next is being produced in several transactions and that many of its
// records are committed.
type Cursor struct {
	AppID, Report  string
	Next           time.Time
	PartialRecords int
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
	for key, st := range m {
		i := strings.LastIndexByte(key, '|')
		if i < 0 {
			continue
		}
		c := Cursor{AppID: key[:i], Report: key[i+1:], Next: st.next}
		if st.partial != nil {
			c.PartialRecords = st.partial.Records
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Cursor) int { return cmp.Or(cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.Report, b.Report)) })
	return out, nil
}
