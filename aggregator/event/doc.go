// Package event is the raw-event contract of the raw_events topic: one
// AppsFlyer event as a JSON object with the Push API field names, values as
// strings or typed JSON. Pull API CSV rows are mapped onto the same names by
// ingest, so this is the only format the aggregator parses.
//
// Parse reads only the fields the aggregator needs with a single pass over
// the bytes and no reflection, because it runs once per event on the hot path.
package event
