// Package aggregate turns raw_events into exact hour and day totals.
//
// Every raw_events partition is an independent unit with its own windows,
// watermark and de-duplication set, so a rebalance moves whole partition
// states and no state is shared between consumers. Each decision about a
// record (dead-lettered, too late, duplicate, counted) depends only on the
// partition's earlier records, so replaying a partition from its MongoDB
// checkpoint reaches the same totals as an uninterrupted run. Live totals
// are written as absolute values guarded by the offset they include
// (metricstore), which is what makes crashes, rebalances and MongoDB
// outages invisible in the results. The same independence lets the
// partitions of one poll be counted in parallel (Workers): each partition
// by one goroutine at a time, in offset order, while flushes, store rounds
// and rebalances happen between polls with no partition being counted.
//
// Time rules, per partition (M = newest counted event time):
//   - watermark W = M - allowed lateness; a window whose end is at or before
//     W is final in aggregated_metrics (further changes are corrections);
//   - an event older than W - correction horizon is too late: counted in a
//     metric, not applied. A window ending at or before that cutoff can no
//     longer change, so it is appended once to the time-series collection;
//   - the de-duplication set keeps identities whose event time is at or
//     after the cutoff: an older copy is too late before it is a duplicate,
//     which keeps the set bounded and its pruning exact.
package aggregate
