// Package metricstore is the aggregator's MongoDB side: it creates the
// collections of the metricdoc storage contract (time-series collections
// where the server has them, regular ones with application-side expiry where
// it does not), and performs the writes that make the aggregator exactly
// once without transactions: absolute live totals guarded by the source
// offset they include, a one-time append of final windows, and per-partition
// checkpoints that only move forward.
package metricstore
