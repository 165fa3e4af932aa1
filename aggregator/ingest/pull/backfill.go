package pull

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/settings"
)

// Flag names of the backfill range.
const (
	FlagBackfillFrom = "backfill.from"
	FlagBackfillTo   = "backfill.to"
)

// RegisterBackfillFlags registers --backfill.from and --backfill.to.
func RegisterBackfillFlags(fs *flag.FlagSet, from, to *time.Time) {
	settings.Time(fs, from, FlagBackfillFrom, "RFC 3339: re-pull [from, to) once (within 90 days) without moving cursors, then exit")
	settings.Time(fs, to, FlagBackfillTo, "RFC 3339 end of the backfill range")
}

// ValidateBackfill checks a backfill range against AppsFlyer's 90-day
// raw-data lookback (counted from 00:00 UTC today, as AppsFlyer does).
func ValidateBackfill(from, to, now time.Time) error {
	y, m, d := now.UTC().Date()
	oldest := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -appsflyer.LookbackDays)
	switch {
	case from.IsZero() || to.IsZero():
		return fmt.Errorf("%s/%s: both are required", FlagBackfillFrom, FlagBackfillTo)
	case !from.Before(to):
		return fmt.Errorf("%s %s: must be before %s %s", FlagBackfillFrom, from.Format(time.RFC3339), FlagBackfillTo, to.Format(time.RFC3339))
	case from.Before(oldest):
		return fmt.Errorf("%s %s: older than the %d-day lookback (oldest %s)", FlagBackfillFrom, from.Format(time.RFC3339), appsflyer.LookbackDays, oldest.Format(time.RFC3339))
	case to.After(now):
		return fmt.Errorf("%s %s: in the future", FlagBackfillTo, to.Format(time.RFC3339))
	case from.Truncate(time.Second) != from || to.Truncate(time.Second) != to:
		return fmt.Errorf("%s/%s: must be whole seconds", FlagBackfillFrom, FlagBackfillTo)
	}
	return nil
}

// Backfill re-pulls [from, to) for every app and report, to recover events
// the push path missed. It does not touch the cursors; copies of events
// already on raw_events are removed downstream by event identity. Windows
// are CatchUpWindow long and split on truncation like regular pulls, and
// produced in transactions of TransactionRecords records; with no cursor,
// no progress record is written either: a failed transaction is retried
// from the spool after the ones this process saw commit, and a backfill
// stopped midway is simply run again.
func (p *Poller) Backfill(ctx context.Context, from, to time.Time) error {
	from, to = from.UTC(), to.UTC()
	if err := ValidateBackfill(from, to, p.now()); err != nil {
		return err
	}
	if err := p.init(ctx); err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, app := range p.opts.Apps {
		for _, report := range p.opts.Reports {
			wg.Go(func() {
				for start := from; start.Before(to); start = start.Add(p.opts.CatchUpWindow) {
					end := start.Add(p.opts.CatchUpWindow)
					if end.After(to) {
						end = to
					}
					err := p.pullRange(ctx, span{app: app, report: report, from: start, to: end})
					if err != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("backfill app %s report %s from %s: %w", app, report, start.Format(time.RFC3339), err))
						mu.Unlock()
						return
					}
				}
				p.log.Info("backfill done", "app_id", app, "report", report, "from", from, "to", to)
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}
