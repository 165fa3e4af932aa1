// Package frames shapes query results into Grafana data frames in the
// shapes Grafana's alerting accepts: wide or long time series with labels,
// and tables with string label columns and exactly one numeric column
// (typed numeric-long) unless the caller asks for more.
package frames
