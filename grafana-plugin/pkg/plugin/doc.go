// Package plugin is the campaignpulse Grafana datasource: one instance per
// configured datasource holds a MongoDB client and a Kafka client, answers
// queries (metrics, lag, freshness, variables), resources, health checks
// and live streams.
//
// The same Datasource runs inside Grafana (through datasource.Manage in
// ../main.go) and in-process in the all-in-one binary: NewDatasource,
// then QueryData / CallResource / CheckHealth / RunStream, then Dispose.
package plugin
