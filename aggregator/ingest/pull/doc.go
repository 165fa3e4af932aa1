// Package pull is the AppsFlyer Pull API poller. Per app and raw-data report
// it pulls consecutive [from, to) windows of event time, a configurable
// delay behind now, and publishes every row to raw_events.
//
// No gap, no window twice: a window's rows and the advance of its cursor
// are written in Kafka transactions (the cursor lives in a compacted topic,
// key app|report), and the aggregator reads raw_events read_committed. The
// cursor moves only with the window's last transaction, so a window whose
// transactions did not all commit is pulled again, by this poller (from its
// spool) or by the next one (downloaded again), and a committed window is
// never pulled again. Hence no gap and no window twice, across restarts and
// containers; dead-lettered rows travel in the same transactions as the
// valid ones and are covered alike.
//
// Download first, then short transactions: a window's report is
// downloaded, validated and spooled (memory up to a bound, then a file)
// with no transaction open; only then is it produced, in consecutive
// transactions of at most TransactionRecords records. An open transaction
// holds back every read_committed reader of the partitions it wrote to,
// push events included, so it must last for a bounded produce: never for a
// download, nor for a whole 200,000-row report. Downloads of all apps and
// reports run at once; transactions take turns on the one transactional
// producer.
//
// Exactly once in the common case: every transaction of a window but its
// last also writes a progress record under the cursor's key (the cursor
// unchanged, plus the window's end, the number of its records committed
// and a SHA-256 of their spooled frames). A retry, in the same process
// after a failed transaction or after a restart, reads it back and, when
// the report's first records hash the same, produces only the rest. When
// AppsFlyer answers differently the second time, the whole window is
// produced again and the events committed twice carry the same event
// identity, on which the aggregator de-duplicates (as it does for the push
// and pull copies of an event): totals stay exact, raw_events holds copies.
// A commit whose outcome the client could not learn is settled the same
// way, by reading the committed progress back before the retry.
//
// AppsFlyer's quirks handled here: the 302 to a one-time download host (the
// bearer token is not forwarded), silent truncation at maximum_rows (the
// window is split and re-pulled), the daily quota answered as 400 with a
// message (wait for 00:00 UTC), 401/404 (stop that app), 5xx, timeouts and
// dropped connections (retry with exponential backoff and jitter).
package pull
