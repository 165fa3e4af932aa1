package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
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

// report is a downloaded window: its records spooled and counted, then
// produced in transactions of at most TransactionRecords records.
type report struct {
	sp *spool
	st windowStats
	// committed is how many of the spooled records (in order) are known to
	// be committed on Kafka.
	committed int
	// recheck: an attempt failed, maybe after its commit reached the
	// broker, so the next one first rereads what Kafka holds.
	recheck bool
}

// transfer makes one attempt at sp in two phases. The download runs alone,
// concurrently with every other stream's, bounded by RequestTimeout: rows
// are validated and spooled. Then the spooled records are produced in short
// Kafka transactions of at most TransactionRecords records each; the last
// one also moves the cursor, every other one records the committed prefix
// (partialRecord). Transactions are serialized (one producer), but waiting
// for one never runs a download's timeout, and an open transaction never
// waits on the network: readers of raw_events (read_committed) are held
// back only for the time of one bounded produce.
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
	done := false
	if sp.advance {
		// A previous poller may have committed the start of this window.
		if done, err = p.resume(sp, rep, stored{next: sp.from, partial: p.takePartial(sp)}); err != nil {
			return err
		}
	}
	// A failed transaction is retried from the spool: the report is not
	// downloaded again (AppsFlyer counts every call against the quota).
	err = retry.Do(ctx, p.backoff(), func(ctx context.Context) error {
		if !done && rep.recheck && sp.advance {
			st, err := p.readStored(ctx)
			if err != nil {
				return retry.RetryableError(&transientError{err})
			}
			if done, err = p.resume(sp, rep, st[cursorKey(sp.app, sp.report)]); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		err := p.produceReport(ctx, sp, rep)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		rep.recheck = true
		p.log.Warn("pull transaction failed; producing the rest of the downloaded report again", "app_id", sp.app,
			"report", sp.report, "window_start", sp.from, "committed_records", rep.committed, "err", err)
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

// resume compares what the cursor topic holds for sp's stream (st) with
// the downloaded report. A cursor already at sp.to means the whole window
// is committed (done). A partial record of the same window whose records
// hash like the first records of the spool means those are committed:
// only the rest is produced. A partial record whose hash differs means
// AppsFlyer answered differently this time: everything is produced, and the
// copies of events already committed are removed downstream by event
// identity, which push and pull copies of an event share anyway.
func (p *Poller) resume(sp span, rep *report, st stored) (done bool, err error) {
	if !st.next.Before(sp.to) {
		return true, nil
	}
	pt := st.partial
	if pt == nil || !st.next.Equal(sp.from) || !pt.To.Equal(sp.to) || pt.Records <= rep.committed {
		return false, nil
	}
	var sum []byte
	if pt.Records < rep.st.rows {
		_, h, err := skipSpooled(rep, pt.Records)
		if err != nil {
			return false, err
		}
		sum = h.Sum(nil)
	}
	if sum == nil || hex.EncodeToString(sum) != pt.SHA256 {
		p.m.resumeMismatches.WithLabelValues(sp.report).Inc()
		p.log.Warn("part of this window is committed, but the report downloaded again differs from it; producing it whole (event identity removes the copies downstream)",
			"app_id", sp.app, "report", sp.report, "window_start", sp.from, "window_end", sp.to,
			"committed_records", pt.Records, "rows", rep.st.rows)
		return false, nil
	}
	p.m.resumed.WithLabelValues(sp.report).Add(float64(pt.Records - rep.committed))
	p.log.Info("resuming a window committed in part", "app_id", sp.app, "report", sp.report,
		"window_start", sp.from, "window_end", sp.to, "committed_records", pt.Records, "rows", rep.st.rows)
	rep.committed = pt.Records
	return false, nil
}

// skipSpooled opens rep's spool and reads past its first n records, whose
// frames it hashes into the returned hash.
func skipSpooled(rep *report, n int) (*frameReader, hash.Hash, error) {
	r, err := rep.sp.reader()
	if err != nil {
		return nil, nil, err
	}
	fr, h := newFrameReader(r), sha256.New()
	var buf []byte
	for range n {
		kind, keyOrReason, value, err := fr.next()
		if err != nil {
			return nil, nil, fmt.Errorf("read report spool: %w", noEOF(err))
		}
		buf = appendFrame(buf[:0], kind, keyOrReason, value)
		h.Write(buf)
	}
	return fr, h, nil
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

// produceReport produces the spooled records after the first
// rep.committed in transactions of at most TransactionRecords records,
// advancing rep.committed with each commit.
func (p *Poller) produceReport(ctx context.Context, sp span, rep *report) error {
	fr, h, err := skipSpooled(rep, rep.committed)
	if err != nil {
		return err
	}
	for {
		n := min(p.opts.TransactionRecords, rep.st.rows-rep.committed)
		last := rep.committed+n == rep.st.rows
		if err := p.commitChunk(ctx, sp, fr, h, rep.committed, n, last); err != nil {
			return err
		}
		rep.committed += n
		if last {
			return nil
		}
		if p.betweenTransactions != nil {
			p.betweenTransactions(sp, rep.committed)
		}
	}
}

// commitChunk produces the next n spooled records in one transaction (their
// frames added to h) together with, for a cursor-moving span, the cursor
// record (last) or the partial record of the first before+n records, and
// commits it.
func (p *Poller) commitChunk(ctx context.Context, sp span, fr *frameReader, h hash.Hash, before, n int, last bool) error {
	if n == 0 && !sp.advance {
		return nil
	}
	p.txMu.Lock()
	defer p.txMu.Unlock()
	start := time.Now()
	defer func() { p.m.transaction.WithLabelValues(sp.report).Observe(time.Since(start).Seconds()) }()
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &txn{cl: p.cl}
	err := p.produceSpooled(ctx, t, fr, h, n, sp)
	if err == nil && sp.advance {
		if last {
			t.produce(ctx, cursorRecord(p.kafka.CursorTopic, sp.app, sp.report, sp.to))
		} else {
			t.produce(ctx, partialRecord(p.kafka.CursorTopic, sp.app, sp.report, sp.from, sp.to, before+n, h.Sum(nil)))
		}
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

// produceSpooled produces the next n spooled records into t.
func (p *Poller) produceSpooled(ctx context.Context, t *txn, fr *frameReader, h hash.Hash, n int, sp span) error {
	origin := metricdoc.SourcePull + "/" + sp.app + "/" + sp.report
	now := p.now()
	var buf []byte
	for range n {
		kind, keyOrReason, value, err := fr.next()
		if err != nil {
			return fmt.Errorf("read report spool: %w", noEOF(err))
		}
		if err := t.failed(); err != nil {
			return &transientError{fmt.Errorf("produce in transaction: %w", err)}
		}
		buf = appendFrame(buf[:0], kind, keyOrReason, value)
		h.Write(buf)
		if kind == frameDLQ {
			t.produce(ctx, publish.DLQRecord(p.kafka.Topics.DLQ, metricdoc.SourcePull, origin, string(keyOrReason), value, now))
		} else {
			t.produce(ctx, publish.KeyedRawRecord(p.kafka.Topics.Raw, metricdoc.SourcePull, keyOrReason, value, now))
		}
	}
	return nil
}
