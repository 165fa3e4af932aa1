// Package publish owns ingest's side of Kafka: creating the topics with their
// configs, building franz-go clients (idempotent, metrics via kprom, logs via
// kslog), and the one layout of raw_events and raw_events_dlq records (key,
// headers), so push and pull cannot drift apart.
package publish
