package frames

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/metrics"
)

// Other is the group value of the series that folds every group beyond
// the top N.
const Other = "other"

// series is one group's values, one per window (or one total for tables).
type series struct {
	key    string
	group  []string
	values []int64
	total  int64
}

// collect sums rows into one series per group. Rows of the same window and
// group (from different collections or partitions) add up; rows outside
// the windows are ignored.
func collect(windows []time.Time, rows []metrics.Row, timed bool, groupBy []string) []*series {
	n := 1
	var index map[int64]int
	if timed {
		n = len(windows)
		index = make(map[int64]int, len(windows))
		for i, w := range windows {
			index[w.Unix()] = i
		}
	}
	byKey := make(map[string]*series)
	var out []*series
	var sb strings.Builder
	for i := range rows {
		r := &rows[i]
		at := 0
		if timed {
			var ok bool
			if at, ok = index[r.Window.Unix()]; !ok {
				continue
			}
		}
		key := groupKey(&sb, r.Group)
		s := byKey[key]
		if s == nil {
			s = &series{key: key, group: r.Group, values: make([]int64, n)}
			byKey[key] = s
			out = append(out, s)
		}
		s.values[at] += r.Value
		s.total += r.Value
	}
	if len(out) == 0 && len(groupBy) == 0 {
		// No data without grouping is a real zero, not "no data": an alert
		// on "no installs in the last hour" must see 0.
		out = append(out, &series{values: make([]int64, n)})
	}
	slices.SortFunc(out, func(a, b *series) int {
		if c := cmp.Compare(b.total, a.total); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

func groupKey(sb *strings.Builder, group []string) string {
	switch len(group) {
	case 0:
		return ""
	case 1:
		return group[0]
	}
	sb.Reset()
	for i, g := range group {
		if i > 0 {
			sb.WriteByte(0)
		}
		sb.WriteString(g)
	}
	return sb.String()
}

// topN keeps the n largest series and folds the rest into one "other".
func topN(all []*series, n int, dims int) []*series {
	if n <= 0 || len(all) <= n {
		return all
	}
	other := &series{key: Other, group: make([]string, dims), values: make([]int64, len(all[0].values))}
	for i := range other.group {
		other.group[i] = Other
	}
	for _, s := range all[n:] {
		for i, v := range s.values {
			other.values[i] += v
		}
		other.total += s.total
	}
	return append(all[:n:n], other)
}

func cumulate(all []*series) {
	for _, s := range all {
		var run int64
		for i, v := range s.values {
			run += v
			s.values[i] = run
		}
	}
}
