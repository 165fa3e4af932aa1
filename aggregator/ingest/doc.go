// Package ingest brings AppsFlyer events into Kafka: the push receiver
// (AppsFlyer Push API postbacks over HTTP) and the pull poller (Pull API raw
// data CSV reports), both publishing to raw_events with the same key and
// headers, so the aggregator reads one topic and one format.
//
// The work is split along the data path:
//   - publish: topics, the Kafka clients, and the raw/DLQ record layout;
//   - push: the HTTP receiver that answers 2xx only after Kafka acked;
//   - pull: the poller with its durable, transactional cursor.
//
// This package wires them together for the ingest subcommand and for the
// all-in-one run mode (see Run, Backfill, CreateTopics).
//
// Metrics (all on the injected registry):
//
//	campaignpulse_ingest_events_published_total{source}          events acked on raw_events (push, pull)
//	campaignpulse_ingest_dlq_events_total{source,reason}          inputs acked on raw_events_dlq
//	campaignpulse_ingest_push_requests_total{code}                postbacks answered, by HTTP status
//	campaignpulse_ingest_push_request_duration_seconds            time to the answer, Kafka ack included
//	campaignpulse_ingest_pull_requests_total{report,status_class} report requests (2xx/4xx/5xx/error)
//	campaignpulse_ingest_pull_retries_total{report}               retried attempts (5xx, timeouts, drops)
//	campaignpulse_ingest_pull_rows_total{report}                  CSV rows of committed windows
//	campaignpulse_ingest_pull_windows_total{report}               windows committed (rows + cursor)
//	campaignpulse_ingest_pull_window_splits_total{report}         windows split at maximum_rows
//	campaignpulse_ingest_pull_quota_waits_total{report}           daily quota hits (wait to 00:00 UTC)
//	campaignpulse_ingest_pull_cursor_timestamp_seconds{app_id,report} committed pull position
//	campaignpulse_ingest_pull_app_stopped{app_id}                 1 after a 401/404 stopped the app
//	campaignpulse_ingest_kafka_*{role}                            franz-go client metrics (kprom)
package ingest
