package aggregate

// outcome is what happened to one raw_events record. Every record gets
// exactly one, so records = counted + duplicates + too_late + dead_lettered.
type outcome uint8

const (
	outCounted outcome = iota
	outDuplicate
	outTooLate
	outDeadLettered
	numOutcomes
)

// String is the outcome label of campaignpulse_aggregate_events_total.
func (o outcome) String() string {
	return [...]string{"counted", "duplicate", "too_late", "dead_lettered"}[o]
}

// tally is a partition's outcome counts for the records before offset.
// skipped counts the offsets below offset that are no event (transaction
// markers, records of aborted transactions), lost those whose records the
// retention deleted before they were processed, so that offset =
// sum(counts) + skipped + lost.
type tally struct {
	offset  int64
	counts  [numOutcomes]int64
	skipped int64
	lost    int64
}
