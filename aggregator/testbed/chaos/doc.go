// Package chaos checks the aggregator's exactly-once promise the way Kafka's
// own system tests and Materialize's Zippy do: it feeds raw_events with
// seeded simulator traffic whose ground truth is known, runs real
// `campaignpulse aggregate` processes, kills them with SIGKILL at random
// points, takes the MongoDB store away and back, and finally compares every
// stored hour and day window with the ground truth.
//
// The oracle reads MongoDB independently of the Grafana plugin, following
// the layout rule written in package metricdoc, so a reader bug and a writer
// bug cannot cancel out.
package chaos
