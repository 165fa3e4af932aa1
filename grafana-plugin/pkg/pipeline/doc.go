// Package pipeline plans a metrics query against the storage layout of
// metricdoc: which windows come from the time-series collection and which
// from live_metrics, and the MongoDB pipeline for each. Pipelines use only
// $match, $group and $sort, so they run on MongoDB 7+ and on FerretDB v1
// alike, and $match comes first on meta and window_start so the
// time-series buckets are pruned before anything is unpacked.
package pipeline
