// Package metricdoc is the one definition of what the aggregator stores and
// publishes and of what the Grafana plugin may ask for. Both sides import it,
// so a field name, a collection name or a query type exists exactly once.
//
// Storage layout (MongoDB database, default "campaignpulse"):
//
//   - live_metrics: regular collection, one document per
//     (granularity, window, dimensions, Kafka partition) with absolute totals
//     and the source offset it includes. Deterministic _id (see LiveID).
//     Documents of windows still inside the correction horizon live here and
//     are updated in place; once finalized (appended to the time-series
//     collection) they get final=true, and once every checkpoint's
//     finalized-through time is past them (no reader takes them from here
//     any more) they get expire_at and a TTL index removes them later.
//   - hourly_metrics / daily_metrics: time-series collections (timeField
//     window_start, metaField meta) holding exactly one final document per
//     (window, dimensions, partition). On servers without time-series
//     support they are regular collections with the same documents.
//   - checkpoints: one document per consumed partition: the next offset to
//     read, the partition watermark and the time through which windows have
//     been finalized into the time-series collections.
//   - freshness: one document per (app_id, source) with the newest event.
//
// A reader computes, per granularity, FinalizedThrough = the minimum of the
// checkpoints' finalized-through times. Windows starting before it are read
// from the time-series collection, windows at or after it from
// live_metrics. Every (window, dimensions, partition) is therefore counted
// exactly once, and totals per window are the sum over partitions.
package metricdoc
