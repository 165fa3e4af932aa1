// Package realkafka runs a real Apache Kafka 4.x broker (KRaft, single node, loopback) for
// integration tests, chaos scenarios and benchmarks.
//
// kfake (aggregator/testbed/embedded) speaks the Kafka protocol in-process and is the right peer for unit
// tests, but it is not Apache Kafka: log recovery after kill -9, controlled shutdown, the group and
// transaction coordinators and their timeouts only behave like production against the real broker.
// The broker itself is owned by scripts/kafka.sh (jars from Maven Central via scripts/kafka/pom.xml,
// Java 17); this package drives that script so the command line and the tests share one setup.
//
// Tests call [ForTest]; it skips with a message naming what is missing when java or mvn is absent,
// and fails instead when CAMPAIGNPULSE_REQUIRE_KAFKA=1 (CI sets it so a missing peer never passes
// silently). Programs (chaos drivers, benchmarks) call [Start].
package realkafka
