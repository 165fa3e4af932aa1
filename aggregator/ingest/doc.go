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
// all-in-one run mode (see Start).
package ingest
