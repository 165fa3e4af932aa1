// Package integration holds the end-to-end suite that runs the whole data
// path against a real Apache Kafka broker (started from the Maven Central
// jars by scripts/kafka.sh) and FerretDB: simulator -> ingest (push and
// pull) -> raw_events -> two aggregators -> MongoDB + aggregated_metrics ->
// the Grafana plugin's datasource. Its tests carry the `integration` build
// tag; `make integration` runs them and prints one summary line per scenario.
// Pipeline, the data path up to MongoDB in one process, is shared with the
// other suites that need a running pipeline (status).
package integration
