package pull

import (
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
				if serr := p.sleep(ctx, ae.RetryAfter); serr != nil {
					return serr
				}
			}
			return retry.RetryableError(err)
		})
		if !appsflyer.IsQuota(err) {
			return err
		}
		now := p.now()
		reset := appsflyer.QuotaReset(now)
		p.m.quotaWaits.WithLabelValues(sp.report).Inc()
		p.log.Warn("daily pull quota reached; waiting for the reset", "app_id", sp.app, "report", sp.report,
			"resume_at", reset)
		if err := p.sleep(ctx, reset.Sub(now)); err != nil {
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

// report is a downloaded window: its records spooled and counted, not yet
// produced.
type report struct {
	sp *spool
	st windowStats
}

// transfer makes one attempt at sp in two phases. The download runs alone,
// concurrently with every other stream's, bounded by RequestTimeout: rows
// are validated and spooled. Then one short Kafka transaction produces the
// spooled records and the cursor record. Transactions are serialized (one
// producer), but waiting for one never runs a download's timeout, and an
// open transaction never waits on the network: readers of raw_events
// (read_committed) are held back only for the time of the produce.
func (p *Poller) transfer(ctx context.Context, sp span, acceptTruncated bool) error {
	rep, err := p.download(ctx, sp)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rep.sp.Close(); cerr != nil {
			p.log.Warn("remove report spool", "app_id", sp.app, "report", sp.report, "err", cerr)
		}
	}()
	if rep.st.rows >= p.rowCap && !acceptTruncated {
		return errTruncated
	}
	// A failed commit is retried from the spool: the report is not
	// downloaded again (AppsFlyer counts every call against the quota).
	err = retry.Do(ctx, p.backoff(), func(ctx context.Context) error {
		err := p.commitReport(ctx, sp, rep)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		p.log.Warn("pull transaction failed; producing the downloaded report again", "app_id", sp.app,
			"report", sp.report, "window_start", sp.from, "err", err)
		return retry.RetryableError(err)
	})
	if err != nil {
		return err
	}

	p.m.rows.WithLabelValues(sp.report).Add(float64(rep.st.rows))
	p.m.windows.WithLabelValues(sp.report).Inc()
	p.pm.Published.WithLabelValues(metricdoc.SourcePull).Add(float64(rep.st.published))
	for reason, n := range rep.st.dlq {
		p.pm.DLQ.WithLabelValues(metricdoc.SourcePull, reason).Add(float64(n))
	}
	if sp.advance {
		p.setCursor(sp.app, sp.report, sp.to)
	}
	p.log.Debug("pull window committed", "app_id", sp.app, "report", sp.report,
		"window_start", sp.from, "window_end", sp.to, "rows", rep.st.rows,
		"dead_lettered", rep.st.rows-rep.st.published, "spooled_bytes", rep.sp.n, "spooled_to_disk", rep.sp.onDisk())
	return nil
}

// download requests sp's report and spools its rows, all within
// RequestTimeout. Every failure of the transport is a transientError.
func (p *Poller) download(ctx context.Context, sp span) (*report, error) {
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, p.opts.RequestTimeout)
	defer cancel()
	resp, err := p.get(rctx, sp.app, sp.report, sp.from, sp.to)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rr, err := appsflyer.NewRowReader(resp.Body)
	if err != nil {
		if rctx.Err() != nil || appsflyer.IsRetryable(err) || !errors.Is(err, appsflyer.ErrBadHeader) {
			return nil, &transientError{fmt.Errorf("read report header: %w", err)}
		}
		return nil, err // not a raw-data report: retrying will not help
	}
	rep := &report{sp: newSpool(p.opts.SpoolMemory, p.opts.SpoolDir), st: windowStats{dlq: map[string]int{}}}
	if err := p.spoolRows(rr, sp, rep); err != nil {
		return nil, errors.Join(err, rep.sp.Close())
	}
	p.m.download.WithLabelValues(sp.report).Observe(time.Since(start).Seconds())
	return rep, nil
}

// spoolRows validates every row of the report and spools it: valid events
// for raw_events, ragged or invalid rows for raw_events_dlq with the
// reason.
func (p *Poller) spoolRows(rr *appsflyer.RowReader, sp span, rep *report) error {
	var (
		ev    event.Event
		frame []byte
	)
	st := &rep.st
	for {
		raw, err := rr.Next()
		if err == io.EOF {
			return nil
		}
		var rowErr *appsflyer.RowError
		switch {
		case errors.As(err, &rowErr):
			// The reader does not hand out the bad line; its position and
			// cause are what the DLQ record can carry.
			st.dlq[publish.ReasonRaggedRow]++
			frame = appendFrame(frame[:0], frameDLQ, []byte(publish.ReasonRaggedRow), []byte(rowErr.Error()))
		case err != nil:
			return &transientError{fmt.Errorf("read report: %w", err)}
		default:
			if perr := event.Parse(raw, &ev); perr != nil {
				reason := event.ReasonOf(perr)
				st.dlq[string(reason)]++
				frame = appendFrame(frame[:0], frameDLQ, []byte(reason), raw)
			} else {
				st.published++
				frame = appendFrame(frame[:0], frameRaw, publish.Key(&ev), raw)
			}
		}
		st.rows++
		if _, err := rep.sp.Write(frame); err != nil {
			return &transientError{err}
		}
	}
}

// commitReport produces rep's records and, for a cursor-moving span, the
// cursor record in one transaction, and commits it.
func (p *Poller) commitReport(ctx context.Context, sp span, rep *report) error {
	p.txMu.Lock()
	defer p.txMu.Unlock()
	start := time.Now()
	defer func() { p.m.transaction.WithLabelValues(sp.report).Observe(time.Since(start).Seconds()) }()
	r, err := rep.sp.reader()
	if err != nil {
		return err
	}
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &txn{cl: p.cl}
	err = p.produceSpooled(ctx, t, newFrameReader(r), sp)
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
	return nil
}

func (p *Poller) produceSpooled(ctx context.Context, t *txn, fr *frameReader, sp span) error {
	origin := metricdoc.SourcePull + "/" + sp.app + "/" + sp.report
	now := p.now()
	for {
		kind, keyOrReason, value, err := fr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := t.failed(); err != nil {
			return &transientError{fmt.Errorf("produce in transaction: %w", err)}
		}
		if kind == frameDLQ {
			t.produce(ctx, publish.DLQRecord(p.kafka.Topics.DLQ, metricdoc.SourcePull, origin, string(keyOrReason), value, now))
		} else {
			t.produce(ctx, publish.KeyedRawRecord(p.kafka.Topics.Raw, metricdoc.SourcePull, keyOrReason, value, now))
		}
	}
}
