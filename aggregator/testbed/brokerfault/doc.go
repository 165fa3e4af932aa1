// Package brokerfault injects faults into a real Apache Kafka broker while the pipeline runs, and
// checks what clients were promised survived them. It is the broker half of the fault suite:
// aggregator/testbed/chaos kills aggregators and takes MongoDB away; this package kills (SIGKILL), stops
// (SIGTERM, controlled shutdown) and freezes (SIGSTOP) the broker itself, which kfake cannot model.
//
// The oracle follows Kafka's own client system tests and Jepsen's Kafka workload: an acknowledged write must be readable after any fault (no lost
// writes), no record may be read twice (idempotent production), and writes whose outcome the client
// never learned may appear at most once.
package brokerfault
