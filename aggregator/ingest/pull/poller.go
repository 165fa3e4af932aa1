package pull

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/clock"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
)

// Deps are the poller's collaborators.
type Deps struct {
	// Kafka configures the clients; its CursorTopic holds the cursors.
	Kafka publish.Options
	// Metrics are the shared publish counters (events published, DLQ).
	Metrics *publish.Metrics
	// Registerer receives the poller's own metrics and its client's.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// Now is the clock for due windows, quota resets and backfill checks.
	// Default time.Now.
	Now func() time.Time
	// Sleep waits until a window is due, a quota resets or a retry may go.
	// Default clock.Sleep (the wall clock).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Poller pulls raw-data reports for every configured app and report.
type Poller struct {
	opts  Options
	kafka publish.Options
	base  string
	cl    *kgo.Client // transactional
	http  *http.Client
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	log   *slog.Logger
	m     *metrics
	pm    *publish.Metrics
	// rowCap is the row count that means "truncated": maximum_rows, or a
	// smaller cap in tests whose simulator truncates early.
	rowCap int

	txMu sync.Mutex // one transaction at a time on cl

	mu      sync.Mutex
	cursors map[string]time.Time
	// partials are the windows a previous poller committed in part, by
	// cursor key, until their stream pulls them again.
	partials map[string]*partial
	loaded   bool

	// betweenTransactions, when set (tests), runs after each transaction
	// of a window but its last, with the records committed so far.
	betweenTransactions func(sp span, committed int)
}

// New validates opts (after defaults) and builds a poller with its
// transactional Kafka client. Close it when done.
func New(opts Options, deps Deps) (*Poller, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if deps.Metrics == nil || deps.Registerer == nil || deps.Log == nil {
		return nil, errors.New("pull poller: metrics, registerer and log are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Sleep == nil {
		deps.Sleep = clock.Sleep
	}
	cl, err := publish.NewClient(deps.Kafka, "pull", deps.Log, deps.Registerer,
		kgo.TransactionalID(opts.TransactionalID),
		kgo.TransactionTimeout(opts.TransactionTimeout),
	)
	if err != nil {
		return nil, err
	}
	return &Poller{
		opts: opts, kafka: deps.Kafka.WithDefaults(), base: strings.TrimRight(opts.BaseURL, "/"),
		cl: cl, http: newHTTPClient(), now: deps.Now, sleep: deps.Sleep, log: deps.Log,
		m: newMetrics(deps.Registerer, opts.Reports), pm: deps.Metrics,
		rowCap: opts.MaxRows, cursors: map[string]time.Time{}, partials: map[string]*partial{},
	}, nil
}

// Close releases the Kafka client. An open transaction is aborted by the
// broker (or by the next poller with the same transactional id).
func (p *Poller) Close() { p.cl.Close() }

// init claims the transactional id, which fences any previous poller with
// it and aborts that poller's open transaction, then reads the cursors.
func (p *Poller) init(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loaded {
		return nil
	}
	if _, _, err := p.cl.ProducerID(ctx); err != nil {
		return fmt.Errorf("init transactional producer %s: %w", p.opts.TransactionalID, err)
	}
	st, err := p.readStored(ctx)
	if err != nil {
		return err
	}
	for key, c := range st {
		p.cursors[key] = c.next
		if c.partial != nil {
			p.partials[key] = c.partial
		}
	}
	p.loaded = true
	p.log.Info("pull cursors loaded", "cursors", len(st), "windows_committed_in_part", len(p.partials))
	return nil
}

// readStored reads what the cursor topic holds now, committed.
func (p *Poller) readStored(ctx context.Context) (map[string]stored, error) {
	return loadCursors(ctx, kadm.NewClient(p.cl), func(extra ...kgo.Opt) (*kgo.Client, error) {
		return publish.NewClient(p.kafka, "pull-cursor-reader", p.log, nil, extra...)
	}, p.kafka.CursorTopic)
}

// partialEnd is the end of the window of app/report that a previous poller
// committed in part; zero if none.
func (p *Poller) partialEnd(app, report string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pt := p.partials[cursorKey(app, report)]; pt != nil {
		return pt.To
	}
	return time.Time{}
}

// takePartial returns (and forgets) the part of window sp that a previous
// poller committed, if any.
func (p *Poller) takePartial(sp span) *partial {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := cursorKey(sp.app, sp.report)
	pt := p.partials[key]
	delete(p.partials, key)
	return pt
}

// Cursor returns the committed position of app/report: everything before it
// is on raw_events.
func (p *Poller) Cursor(app, report string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.cursors[cursorKey(app, report)]
	return t, ok
}

func (p *Poller) setCursor(app, report string, t time.Time) {
	p.mu.Lock()
	p.cursors[cursorKey(app, report)] = t
	p.mu.Unlock()
	p.m.cursor.WithLabelValues(app, report).Set(float64(t.Unix()))
}

// start is the first window start of a stream without a cursor.
func (p *Poller) start() time.Time {
	if !p.opts.Start.IsZero() {
		return p.opts.Start.UTC()
	}
	return p.now().Add(-p.opts.delay()).Truncate(p.opts.Window).Add(-p.opts.Window).UTC()
}

// Run polls every app and report until ctx ends (or, with Options.Until,
// until every cursor reached it). An app whose token is rejected (401) or
// that AppsFlyer does not know (404) is stopped, naming the app; the others
// go on. Run returns nil on ctx's end or completion, otherwise the errors
// of the stopped apps and reports.
func (p *Poller) Run(ctx context.Context) error {
	// Kafka may come up after us (compose, restarts): keep trying to claim
	// the transactional id and read the cursors rather than giving up.
	for {
		err := p.init(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("pull poller cannot start yet; retrying", "err", err, "retry_in", p.opts.RetryCap)
		if err := p.sleep(ctx, p.opts.RetryCap); err != nil {
			return nil
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, app := range p.opts.Apps {
		actx, stopApp := context.WithCancelCause(ctx)
		p.m.stopped.WithLabelValues(app).Set(0)
		for _, report := range p.opts.Reports {
			wg.Go(func() {
				err := p.stream(actx, app, report)
				if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) && context.Cause(actx) != nil {
					return
				}
				if appFatal(err) {
					p.m.stopped.WithLabelValues(app).Set(1)
					stopApp(err)
					p.log.Error("pulling app stopped", "app_id", app, "report", report, "err", err)
				} else {
					p.log.Error("pulling report stopped", "app_id", app, "report", report, "err", err)
				}
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			})
		}
		defer stopApp(nil)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// appFatal: errors that concern every report of the app.
func appFatal(err error) bool {
	var e *appsflyer.APIError
	return errors.As(err, &e) && (e.Kind == appsflyer.KindInvalidToken || e.Kind == appsflyer.KindAppNotFound)
}

// stream pulls consecutive windows of one app and report.
func (p *Poller) stream(ctx context.Context, app, report string) error {
	from, ok := p.Cursor(app, report)
	if !ok {
		from = p.start()
	} else {
		p.m.cursor.WithLabelValues(app, report).Set(float64(from.Unix()))
	}
	// A window a previous poller committed in part is pulled again with
	// the same end, so its download can match the committed part.
	resumeTo := p.partialEnd(app, report)
	for {
		if !p.opts.Until.IsZero() && !from.Before(p.opts.Until) {
			return nil
		}
		now := p.now()
		to := p.windowEnd(from, now)
		if resumeTo.After(from) && (p.opts.Until.IsZero() || !resumeTo.After(p.opts.Until)) {
			to = resumeTo
		}
		if due := to.Add(p.opts.delay()); now.Before(due) {
			if err := p.sleep(ctx, due.Sub(now)); err != nil {
				return err
			}
			continue
		}
		resumeTo = time.Time{}
		err := p.pullRange(ctx, span{app: app, report: report, from: from, to: to, advance: true})
		switch {
		case err == nil:
			from = to
		case ctx.Err() != nil:
			return ctx.Err()
		case retryable(err):
			// Retries exhausted on a transient failure: keep the cursor,
			// wait one backoff cap, try again. Only permanent errors stop.
			p.log.Error("window failed after retries; will try again", "app_id", app, "report", report,
				"window_start", from, "window_end", to, "err", err)
			if err := p.sleep(ctx, p.opts.RetryCap); err != nil {
				return err
			}
		default:
			return fmt.Errorf("pull app %s report %s window %s: %w", app, report, from.Format(time.RFC3339), err)
		}
	}
}

// windowEnd is the end of the next window from from: one Window, or up to
// CatchUpWindow (whole Windows) when the cursor lags, never past Until.
func (p *Poller) windowEnd(from, now time.Time) time.Time {
	to := from.Add(p.opts.Window)
	if lag := now.Add(-p.opts.delay()).Sub(from); lag > 2*p.opts.Window {
		to = from.Add(min(lag.Truncate(p.opts.Window), p.opts.CatchUpWindow))
	}
	if !p.opts.Until.IsZero() && to.After(p.opts.Until) {
		to = p.opts.Until
	}
	return to
}
