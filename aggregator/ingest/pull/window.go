package pull

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/event"
	"github.com/campaignpulse/campaignpulse/aggregator/ingest/publish"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// span is one request's worth of event time; advance says whether its
// commit moves the cursor (false for backfills).
type span struct {
	app, report string
	from, to    time.Time
	advance     bool
}

// errTruncated: the report has exactly maximum_rows rows, so AppsFlyer may
// have cut it silently.
var errTruncated = errors.New("report reached maximum_rows")

// pullRange pulls sp, splitting it in halves (recursively) while a part
// comes back truncated. Each part commits on its own, so the cursor moves
// in steps and a crash between parts loses nothing.
func (p *Poller) pullRange(ctx context.Context, sp span) error {
	err := p.pullWindow(ctx, sp, false)
	if !errors.Is(err, errTruncated) {
		return err
	}
	p.m.splits.WithLabelValues(sp.report).Inc()
	half := (sp.to.Sub(sp.from) / 2).Truncate(time.Second)
	if half < time.Second {
		p.log.Error("a one-second window reaches maximum_rows; committing it as served",
			"app_id", sp.app, "report", sp.report, "window_start", sp.from, "max_rows", p.opts.MaxRows)
		return p.pullWindow(ctx, sp, true)
	}
	p.log.Info("window reached maximum_rows; splitting", "app_id", sp.app, "report", sp.report,
		"window_start", sp.from, "window_end", sp.to)
	first, second := sp, sp
	first.to, second.from = sp.from.Add(half), sp.from.Add(half)
	if err := p.pullRange(ctx, first); err != nil {
		return err
	}
	return p.pullRange(ctx, second)
}

func (p *Poller) backoff() retry.Backoff {
	b := retry.NewExponential(p.opts.RetryBase)
	b = retry.WithJitterPercent(20, b)
	b = retry.WithCappedDuration(p.opts.RetryCap, b)
	return retry.WithMaxRetries(p.opts.RetryAttempts-1, b)
}

// pullWindow pulls and commits sp: transient failures are retried with
// backoff, the daily quota waits for its reset (00:00 UTC), anything else
// is returned.
func (p *Poller) pullWindow(ctx context.Context, sp span, acceptTruncated bool) error {
	for {
		err := retry.Do(ctx, p.backoff(), func(ctx context.Context) error {
			err := p.transfer(ctx, sp, acceptTruncated)
			if err == nil || !retryable(err) || ctx.Err() != nil {
				return err
			}
			p.m.retries.WithLabelValues(sp.report).Inc()
			p.log.Warn("pull attempt failed; retrying", "app_id", sp.app, "report", sp.report,
				"window_start", sp.from, "err", err)
			var ae *appsflyer.APIError
			if errors.As(err, &ae) && ae.RetryAfter > 0 {
				if serr := p.clock.Sleep(ctx, ae.RetryAfter); serr != nil {
					return serr
				}
			}
			return retry.RetryableError(err)
		})
		if !appsflyer.IsQuota(err) {
			return err
		}
		now := p.clock.Now()
		reset := appsflyer.QuotaReset(now)
		p.m.quotaWaits.WithLabelValues(sp.report).Inc()
		p.log.Warn("daily pull quota reached; waiting for the reset", "app_id", sp.app, "report", sp.report,
			"resume_at", reset)
		if err := p.clock.Sleep(ctx, reset.Sub(now)); err != nil {
			return err
		}
	}
}

// windowStats counts one transfer, applied to metrics only on commit.
type windowStats struct {
	rows      int
	published int
	dlq       map[string]int
}

// transfer makes one attempt at sp: request, stream the CSV into a Kafka
// transaction (rows, dead letters, and the cursor record), commit.
func (p *Poller) transfer(ctx context.Context, sp span, acceptTruncated bool) error {
	rctx, cancel := context.WithTimeout(ctx, p.opts.RequestTimeout)
	defer cancel()
	resp, err := p.get(rctx, sp.app, sp.report, sp.from, sp.to)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rr, err := appsflyer.NewRowReader(resp.Body)
	if err != nil {
		if rctx.Err() != nil || appsflyer.IsRetryable(err) || !errors.Is(err, appsflyer.ErrBadHeader) {
			return &transientError{fmt.Errorf("read report header: %w", err)}
		}
		return err // not a raw-data report: retrying will not help
	}

	p.txMu.Lock()
	defer p.txMu.Unlock()
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &txn{cl: p.cl}
	st := windowStats{dlq: map[string]int{}}
	// Records are produced on ctx, not rctx: a download that used most of
	// RequestTimeout must not fail the records still waiting to be sent.
	err = p.copyRows(ctx, t, rr, sp, &st)
	if err == nil && st.rows >= p.rowCap && !acceptTruncated {
		err = errTruncated
	}
	if err == nil && sp.advance {
		t.produce(ctx, cursorRecord(p.kafka.CursorTopic, sp.app, sp.report, sp.to))
	}
	if err == nil {
		if err = t.commit(ctx); err != nil {
			err = &transientError{err}
		}
	}
	if err != nil {
		if aerr := t.abort(ctx); aerr != nil {
			p.log.Warn("abort pull transaction", "app_id", sp.app, "report", sp.report, "err", aerr)
		}
		return err
	}

	p.m.rows.WithLabelValues(sp.report).Add(float64(st.rows))
	p.m.windows.WithLabelValues(sp.report).Inc()
	p.pm.Published.WithLabelValues(metricdoc.SourcePull).Add(float64(st.published))
	for reason, n := range st.dlq {
		p.pm.DLQ.WithLabelValues(metricdoc.SourcePull, reason).Add(float64(n))
	}
	if sp.advance {
		p.setCursor(sp.app, sp.report, sp.to)
	}
	p.log.Debug("pull window committed", "app_id", sp.app, "report", sp.report,
		"window_start", sp.from, "window_end", sp.to, "rows", st.rows, "dead_lettered", st.rows-st.published)
	return nil
}

// copyRows produces every row of the report into t: valid events to
// raw_events, ragged or invalid rows to raw_events_dlq with the reason.
func (p *Poller) copyRows(ctx context.Context, t *txn, rr *appsflyer.RowReader, sp span, st *windowStats) error {
	origin := metricdoc.SourcePull + "/" + sp.app + "/" + sp.report
	now := p.clock.Now()
	var ev event.Event
	for {
		raw, err := rr.Next()
		if err == io.EOF {
			return nil
		}
		var rowErr *appsflyer.RowError
		if errors.As(err, &rowErr) {
			// The reader does not hand out the bad line; its position and
			// cause are what the DLQ record can carry.
			st.rows++
			st.dlq[publish.ReasonRaggedRow]++
			t.produce(ctx, publish.DLQRecord(p.kafka.Topics.DLQ, metricdoc.SourcePull, origin, publish.ReasonRaggedRow, []byte(rowErr.Error()), now))
			continue
		}
		if err != nil {
			return &transientError{fmt.Errorf("read report: %w", err)}
		}
		if err := t.failed(); err != nil {
			return &transientError{fmt.Errorf("produce in transaction: %w", err)}
		}
		st.rows++
		raw = bytes.Clone(raw) // the reader reuses its buffer
		if perr := event.Parse(raw, &ev); perr != nil {
			reason := string(event.ReasonOf(perr))
			st.dlq[reason]++
			t.produce(ctx, publish.DLQRecord(p.kafka.Topics.DLQ, metricdoc.SourcePull, origin, reason, raw, now))
			continue
		}
		st.published++
		t.produce(ctx, publish.RawRecord(p.kafka.Topics.Raw, metricdoc.SourcePull, &ev, raw, now))
	}
}
