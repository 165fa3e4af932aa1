package frames

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
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
func collect(windows []time.Time, rows []pipeline.Row, timed bool, groupBy []string) []*series {
	n := 1
	var ix windowIndex
	if timed {
		n = len(windows)
		ix = newWindowIndex(windows)
	}
	byKey := make(map[string]*series)
	var out []*series
	var sb strings.Builder
	for i := range rows {
		r := &rows[i]
		at := 0
		if timed {
			var ok bool
			if at, ok = ix.lookup(r.Window.Unix()); !ok {
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

// windowIndex finds a window's position: by arithmetic when the windows
// are evenly spaced (hours, days in a zone without DST), else by map.
type windowIndex struct {
	first, step int64
	n           int
	byUnix      map[int64]int
}

func newWindowIndex(windows []time.Time) windowIndex {
	ix := windowIndex{n: len(windows)}
	if len(windows) == 0 {
		return ix
	}
	ix.first = windows[0].Unix()
	if len(windows) > 1 {
		ix.step = windows[1].Unix() - ix.first
	}
	for i, w := range windows {
		if ix.step <= 0 || w.Unix() != ix.first+int64(i)*ix.step {
			ix.byUnix = make(map[int64]int, len(windows))
			for j, w := range windows {
				ix.byUnix[w.Unix()] = j
			}
			break
		}
	}
	return ix
}

func (ix windowIndex) lookup(unix int64) (int, bool) {
	if ix.byUnix != nil {
		i, ok := ix.byUnix[unix]
		return i, ok
	}
	d := unix - ix.first
	if ix.n == 0 || d < 0 || (ix.step == 0 && d != 0) {
		return 0, false
	}
	if ix.step == 0 {
		return 0, true
	}
	if d%ix.step != 0 || d/ix.step >= int64(ix.n) {
		return 0, false
	}
	return int(d / ix.step), true
}
