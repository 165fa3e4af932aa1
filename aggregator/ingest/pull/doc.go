// Package pull is the AppsFlyer Pull API poller. Per app and raw-data report
// it pulls consecutive [from, to) windows of event time, a configurable
// delay behind now, and publishes every row to raw_events.
//
// Exactly-once windows: a window's rows and the advance of its cursor are
// written in ONE Kafka transaction (the cursor lives in a compacted topic,
// key app|report), and the aggregator reads raw_events read_committed. A
// crash before the commit leaves neither the rows nor the cursor visible, so
// the window is pulled again; after the commit both are visible, so it is
// not. Hence no gap and no window twice, across restarts and containers.
//
// Download first, then a short transaction: a window's report is
// downloaded, validated and spooled (memory up to a bound, then a file)
// with no transaction open; only then is it produced in a transaction. An
// open transaction holds back every read_committed reader of the
// partitions it wrote to, push events included, so it must last for a
// produce, never for a download. Downloads of all apps and reports run at
// once; transactions take turns on the one transactional producer.
//
// AppsFlyer's quirks handled here: the 302 to a one-time download host (the
// bearer token is not forwarded), silent truncation at maximum_rows (the
// window is split and re-pulled), the daily quota answered as 400 with a
// message (wait for 00:00 UTC), 401/404 (stop that app), 5xx, timeouts and
// dropped connections (retry with exponential backoff and jitter).
package pull
