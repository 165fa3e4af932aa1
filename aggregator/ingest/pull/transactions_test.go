package pull

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/internal/kafkatest"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// chunkRecords is the transaction size of these tests: every window holds
// several times as many records.
const chunkRecords = 100

// largeWindows is an env whose one-hour in-app event windows hold several
// transactions' worth of records each.
func largeWindows(t *testing.T, cfg envConfig) (*env, Options) {
	t.Helper()
	cfg.apps, cfg.rate = 1, 0.6
	if cfg.span == 0 {
		cfg.span = 2 * time.Hour
	}
	e := newEnv(t, cfg)
	o := e.options()
	o.Reports = []string{appsflyer.ReportInAppEvents}
	o.TransactionRecords = chunkRecords
	for k, n := range e.expected(o.Apps, o.Reports) {
		if n < 4*chunkRecords {
			t.Fatalf("window %s holds %d events; the test needs more than %d", k.hour, n, 4*chunkRecords)
		}
	}
	return e, o
}

// visibleRecords waits until read_committed readers see want records on
// raw_events and the DLQ together, or ctx ends, and returns how many they
// see. Commit markers are written after the commit's answer (on Apache
// Kafka), so the records of a commit can take a moment to show.
func (e *env) visibleRecords(ctx context.Context, want int) (int, error) {
	for {
		n, err := e.committedCount(ctx)
		if err != nil || n >= want || ctx.Err() != nil {
			return n, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// committedCount counts the records committed on raw_events and the DLQ.
func (e *env) committedCount(ctx context.Context) (int, error) {
	n := 0
	for _, topic := range []string{e.kopts.Topics.Raw, e.kopts.Topics.DLQ} {
		recs, err := kafkatest.Committed(ctx, e.brokers, topic)
		if err != nil {
			return 0, err
		}
		n += len(recs)
	}
	return n, nil
}

// TestLargeWindowInBoundedTransactions: windows of several transactions'
// worth of records land exactly once, in transactions of at most
// TransactionRecords records. While the poller is held between two
// transactions of the first window, a read_committed reader already sees
// exactly the records committed so far (the last stable offset moved before
// the rest of the window was produced), and the cursor topic shows the
// cursor at the window start with that many records of it committed.
func TestLargeWindowInBoundedTransactions(t *testing.T) {
	e, o := largeWindows(t, envConfig{})
	p := e.poller(t, o)
	type seen struct {
		committed, visible int
		cursors            []Cursor
		err                error
	}
	var (
		mu    sync.Mutex
		holds []seen
	)
	p.betweenTransactions = func(sp span, committed int) {
		if !sp.from.Equal(t0) || committed > chunkRecords {
			return
		}
		s := seen{committed: committed}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.visible, s.err = e.visibleRecords(ctx, committed)
		if s.err == nil {
			s.cursors, s.err = e.readCursors(ctx)
		}
		mu.Lock()
		holds = append(holds, s)
		mu.Unlock()
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := e.expected(o.Apps, o.Reports)
	sameCounts(t, e.committed(t), want)

	if len(holds) != 1 {
		t.Fatalf("held the poller %d times after the first transaction of the first window, want 1", len(holds))
	}
	h := holds[0]
	if h.err != nil {
		t.Fatal(h.err)
	}
	if h.committed != chunkRecords || h.visible != chunkRecords {
		t.Fatalf("between the first two transactions %d records were committed and %d visible to read_committed, want %d and %d",
			h.committed, h.visible, chunkRecords, chunkRecords)
	}
	if len(h.cursors) != 1 || !h.cursors[0].Next.Equal(t0) || h.cursors[0].PartialRecords != chunkRecords {
		t.Fatalf("cursors between transactions %+v, want one at %s with %d records of its window committed", h.cursors, t0, chunkRecords)
	}

	records := 0
	for _, n := range want {
		records += n
	}
	minTx := 0
	for _, n := range want {
		minTx += (n + chunkRecords - 1) / chunkRecords
	}
	if n := p.transactions(t); n != minTx {
		t.Fatalf("%d transactions for %d records in %d windows, want %d", n, records, len(want), minTx)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != float64(len(want)) {
		t.Fatalf("windows committed %v, want %d", got, len(want))
	}
	cs, err := e.readCursors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || !cs[0].Next.Equal(t0.Add(e.span)) || cs[0].PartialRecords != 0 {
		t.Fatalf("final cursors %+v, want one at %s and no window in part", cs, t0.Add(e.span))
	}
}

// TestCrashBetweenTransactionsResumes: a poller crashes after committing 3
// transactions of a window. The next one downloads the window again, finds
// its first records identical to the committed part and produces only the
// rest: every event once, nothing lost. Each report starts with a ragged
// row, which is dead-lettered once as well.
func TestCrashBetweenTransactionsResumes(t *testing.T) {
	e, o := largeWindows(t, envConfig{wrap: editReports(func(n int64, header, rows []byte) []byte {
		return append(append(header, "only,three,cells\n"...), rows...)
	})})
	ctx, cancel := context.WithCancel(context.Background())
	first := e.poller(t, o)
	first.betweenTransactions = func(sp span, committed int) {
		if committed == 3*chunkRecords {
			cancel()
			first.Close() // the client goes away as in a crash
		}
	}
	_ = first.Run(ctx) // fails or stops once its client is closed
	if got := first.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != 0 {
		t.Fatalf("the first poller committed %v windows, want 0", got)
	}

	second := e.poller(t, o)
	if err := second.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if n := len(e.read(t, e.kopts.Topics.DLQ)); n != 2 {
		t.Fatalf("%d dead letters, want 2 (the ragged row of each window, once)", n)
	}
	if got := second.metric(t, "campaignpulse_ingest_pull_resumed_records_total", nil); got != 3*chunkRecords {
		t.Fatalf("resumed records %v, want %d (the committed part is not produced again)", got, 3*chunkRecords)
	}
	if got := second.metric(t, "campaignpulse_ingest_pull_resume_mismatches_total", nil); got != 0 {
		t.Fatalf("resume mismatches %v", got)
	}
	if got := second.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != 2 {
		t.Fatalf("the second poller committed %v windows, want 2", got)
	}
	if st := e.sim.Stats(); st.Reports != 3 {
		t.Fatalf("simulator served %d reports, want 3 (the crashed window twice)", st.Reports)
	}
}

// TestFailedTransactionResumesFromSpool: the broker refuses the produce of
// the fourth transaction of a window. That transaction aborts; the retry
// produces the window's rest from the spool (no second download), so every
// event lands once.
func TestFailedTransactionResumesFromSpool(t *testing.T) {
	e, o := largeWindows(t, envConfig{})
	p := e.poller(t, o)
	var injected atomic.Pointer[atomic.Int64]
	p.betweenTransactions = func(sp span, committed int) {
		if injected.Load() == nil && committed == 3*chunkRecords {
			n, err := e.kafka.FailProduce(kerr.MessageTooLarge.Code, 1)
			if err != nil {
				panic(err)
			}
			injected.Store(n)
		}
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := injected.Load(); n == nil || n.Load() != 1 {
		t.Fatal("no produce was refused")
	}
	sameCounts(t, e.committed(t), e.expected(o.Apps, o.Reports))
	if st := e.sim.Stats(); st.Reports != 2 {
		t.Fatalf("simulator served %d reports, want 2 (a failed transaction is not a reason to download again)", st.Reports)
	}
	if got := p.metric(t, "campaignpulse_ingest_pull_windows_total", nil); got != 2 {
		t.Fatalf("windows committed %v, want 2", got)
	}
}

// TestChangedReportAfterCrash: a poller crashes after committing 3
// transactions of a window, and AppsFlyer's next answer for the window
// lacks one of the committed rows. The committed part cannot be matched, so
// the whole window is produced again: nothing is lost, and the copies share
// their event identity (which the aggregator de-duplicates on).
func TestChangedReportAfterCrash(t *testing.T) {
	e, o := largeWindows(t, envConfig{span: time.Hour, wrap: editReports(func(n int64, header, rows []byte) []byte {
		if n == 2 { // the second download lacks the first row
			_, rows, _ = bytes.Cut(rows, []byte("\n"))
		}
		return append(header, rows...)
	})})
	ctx, cancel := context.WithCancel(context.Background())
	first := e.poller(t, o)
	first.betweenTransactions = func(sp span, committed int) {
		if committed == 3*chunkRecords {
			cancel()
			first.Close()
		}
	}
	_ = first.Run(ctx)

	second := e.poller(t, o)
	if err := second.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := second.metric(t, "campaignpulse_ingest_pull_resume_mismatches_total", nil); got != 1 {
		t.Fatalf("resume mismatches %v, want 1", got)
	}
	if got := second.metric(t, "campaignpulse_ingest_pull_resumed_records_total", nil); got != 0 {
		t.Fatalf("resumed records %v, want 0", got)
	}
	want := e.expected(o.Apps, o.Reports)
	total := 0
	for _, n := range want {
		total += n
	}
	recs := e.read(t, metricdoc.TopicRawEvents)
	if len(recs) != total+3*chunkRecords-1 {
		t.Fatalf("%d records on raw_events, want %d: the window whole once, plus the committed part but the missing row again", len(recs), total+3*chunkRecords-1)
	}
	unique := map[uint64]bool{}
	got := map[windowKey]int{}
	for _, r := range recs {
		var ev event.Event
		if err := event.Parse(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if id := ev.Identity(); !unique[id] {
			unique[id] = true
			got[windowKey{ev.AppID, ev.Time.Truncate(time.Hour)}]++
		}
	}
	sameCounts(t, got, want)
}

// editReports serves every downloaded report (the n-th download) as edit
// returns it from its header line and its rows.
func editReports(edit func(n int64, header, rows []byte) []byte) func(http.Handler) http.Handler {
	var downloads atomic.Int64
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/export/") {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if rec.Code == http.StatusOK {
				i := bytes.IndexByte(body, '\n') + 1
				body = edit(downloads.Add(1), slices.Clone(body[:i]), body[i:])
			}
			for k, v := range rec.Header() {
				if k != "Content-Length" {
					w.Header()[k] = v
				}
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	}
}

// readCursors reads the cursors as campaignpulse status does.
func (e *env) readCursors(ctx context.Context) ([]Cursor, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	return ReadCursors(ctx, kadm.NewClient(adm), func(opts ...kgo.Opt) (*kgo.Client, error) {
		return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.brokers...)}, opts...)...)
	}, e.kopts.CursorTopic)
}

// transactions is the number of pull transactions observed.
func (h *harness) transactions(t *testing.T) int {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := uint64(0)
	for _, mf := range mfs {
		if mf.GetName() == "campaignpulse_ingest_pull_transaction_seconds" {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return int(n)
}
