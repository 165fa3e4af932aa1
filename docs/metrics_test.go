package docs_test

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/campaignpulse/campaignpulse/aggregator/aggregate"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/pull"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/push"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/metricstore"
	"github.com/campaignpulse/campaignpulse/aggregator/testbed/embedded/embeddedtest"
)

// series is one metric family as registered: what a row of metrics.md
// must say about it.
type series struct {
	kind        string   // counter, gauge, histogram, summary
	labels      []string // variable labels, sorted
	constLabels []string // constant label names, sorted
}

// recorder is a Registerer that remembers every collector's descriptors
// (so vectors without children count too) and registers on a real
// registry (so conflicts still fail as in production).
type recorder struct {
	reg *prometheus.Registry
	mu  sync.Mutex
	got map[string]series
}

var _ prometheus.Registerer = (*recorder)(nil)

var descRE = regexp.MustCompile(`^Desc\{fqName: "([^"]*)", help: .*, constLabels: \{([^}]*)\}, variableLabels: \{([^}]*)\}\}$`)

func (r *recorder) Register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return err
	}
	kind := kindOf(c)
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range ch {
		m := descRE.FindStringSubmatch(d.String())
		if m == nil {
			panic("unparsable descriptor " + d.String())
		}
		s := series{kind: kind, labels: names(m[3]), constLabels: names(m[2])}
		for i, l := range s.constLabels {
			s.constLabels[i], _, _ = strings.Cut(l, "=")
		}
		r.got[m[1]] = s
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func (r *recorder) Unregister(c prometheus.Collector) bool { return r.reg.Unregister(c) }

func names(list string) []string {
	var out []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// kindOf tells the metric type of a collector: vectors by their Go type,
// single metrics (including GaugeFuncs) by what they write.
func kindOf(c prometheus.Collector) string {
	switch c.(type) {
	case *prometheus.CounterVec:
		return "counter"
	case *prometheus.GaugeVec:
		return "gauge"
	case *prometheus.HistogramVec:
		return "histogram"
	case *prometheus.SummaryVec:
		return "summary"
	}
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	kind := "unknown"
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			continue
		}
		switch {
		case d.Counter != nil:
			kind = "counter"
		case d.Gauge != nil:
			kind = "gauge"
		case d.Histogram != nil:
			kind = "histogram"
		case d.Summary != nil:
			kind = "summary"
		}
	}
	return kind
}

// registered builds every part that registers metrics, the way the
// subcommands wire them, against kfake and FerretDB, and returns what
// they registered.
func registered(t *testing.T) map[string]series {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	rec := &recorder{reg: prometheus.NewRegistry(), got: map[string]series{}}

	kafka := embeddedtest.Kafka(t)
	kopts := publish.Options{Brokers: kafka.Brokers()}.WithDefaults()

	// ingest: shared publish counters, push receiver and its producer, pull poller.
	pm := publish.NewMetrics(rec)
	producer, err := publish.NewProducer(kopts, metricdoc.SourcePush, pm, log, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = producer.Close(ctx) })
	if _, err := push.New(push.Options{Token: "docs"}, push.Deps{Publisher: producer, Log: log, Registerer: rec}); err != nil {
		t.Fatal(err)
	}
	poller, err := pull.New(pull.Options{Token: "docs", Apps: []string{"docs.app"}},
		pull.Deps{Kafka: kopts, Metrics: pm, Registerer: rec, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(poller.Close)

	// aggregate, on an open store.
	mdb := embeddedtest.Mongo(t)
	mc, err := mongo.Connect(options.Client().ApplyURI(mdb.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(ctx) })
	store, err := metricstore.Open(ctx, mc, metricstore.Options{Database: "docs"}, log)
	if err != nil {
		t.Fatal(err)
	}
	agg, err := aggregate.New(aggregate.Options{Brokers: kafka.Brokers()}, store, log, rec)
	if err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := agg.Run(stopped); err != nil { // returns at once; closes its Kafka client
		t.Fatal(err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	return maps.Clone(rec.got)
}

var (
	nameLit   = regexp.MustCompile(`Name:\s*"(campaignpulse_[a-z0-9_]*[a-z0-9])"`)
	kpromCall = regexp.MustCompile(`kprom\.NewMetrics\(\s*"([a-z0-9_]+)"`)
)

// fromSource greps the non-test Go files for metric names and kprom
// prefixes, to catch a series in a part the test does not construct.
func fromSource(t *testing.T) (names, prefixes []string) {
	t.Helper()
	for _, root := range []string{"../aggregator", "../grafana-plugin/pkg"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range nameLit.FindAllSubmatch(b, -1) {
				names = append(names, string(m[1]))
			}
			for _, m := range kpromCall.FindAllSubmatch(b, -1) {
				prefixes = append(prefixes, string(m[1]))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(prefixes)
	return names, slices.Compact(prefixes)
}

// docRow is a table row of metrics.md: | `name` | type | labels | unit | meaning |.
type docRow struct {
	kind   string
	labels []string
}

var labelRE = regexp.MustCompile("`([a-z_]+)`")

func docRows(t *testing.T) (rows map[string]docRow, doc string) {
	t.Helper()
	raw, err := os.ReadFile("metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	rows = map[string]docRow{}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 5 {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		var labels []string
		for _, m := range labelRE.FindAllStringSubmatch(cells[2], -1) {
			labels = append(labels, m[1])
		}
		sort.Strings(labels)
		rows[name] = docRow{kind: strings.TrimSpace(cells[1]), labels: labels}
	}
	return rows, string(raw)
}

// TestMetricsDoc fails when a series the code registers is missing from
// metrics.md or documented with another type or other labels, and when
// metrics.md lists a series the code no longer has.
func TestMetricsDoc(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kfake and FerretDB")
	}
	got := registered(t)
	srcNames, prefixes := fromSource(t)
	rows, doc := docRows(t)

	// docName is the row a series is documented under: kprom's series are
	// listed once as <prefix>_<name> for all prefixes.
	// A name spelled out in our source (campaignpulse_aggregate_kafka_errors_total)
	// is ours even when it starts with a kprom prefix.
	docName := func(name string) string {
		if slices.Contains(srcNames, name) {
			return name
		}
		for _, p := range prefixes {
			if strings.HasPrefix(name, p+"_") {
				return "<prefix>" + strings.TrimPrefix(name, p)
			}
		}
		return name
	}
	var problems []string
	used := map[string]bool{}
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s, dn := got[n], docName(n)
		used[dn] = true
		row, ok := rows[dn]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing: %s (%s, labels %v)", dn, s.kind, s.labels))
		case row.kind != s.kind:
			problems = append(problems, fmt.Sprintf("%s: documented as %s, registered as %s", dn, row.kind, s.kind))
		case !slices.Equal(row.labels, s.labels):
			problems = append(problems, fmt.Sprintf("%s: documented labels %v, registered %v", dn, row.labels, s.labels))
		}
		for _, cl := range s.constLabels {
			if !strings.Contains(doc, "`"+cl+"`") {
				problems = append(problems, fmt.Sprintf("%s: constant label %s not documented", n, cl))
			}
		}
	}
	for _, n := range srcNames {
		if _, ok := got[n]; !ok {
			used[n] = true
			if _, ok := rows[n]; !ok {
				problems = append(problems, fmt.Sprintf("missing: %s (found in the source; not built by this test)", n))
			}
		}
	}
	for _, p := range prefixes {
		if !strings.Contains(doc, "`"+p+"`") {
			problems = append(problems, fmt.Sprintf("kprom prefix %s not documented", p))
		}
	}
	for dn := range rows {
		if !used[dn] {
			problems = append(problems, fmt.Sprintf("stale: %s is documented but not registered", dn))
		}
	}
	sort.Strings(problems)
	problems = slices.Compact(problems) // kprom rows stand for several prefixes
	if len(problems) > 0 {
		t.Errorf("docs/metrics.md is out of step with the code:\n  %s", strings.Join(problems, "\n  "))
	}
}
