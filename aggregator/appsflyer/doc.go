// Package appsflyer holds AppsFlyer's wire formats and nothing else: the Pull
// API raw-data CSV (the 81 default columns in their real order, additional
// fields, a tolerant row reader and a writer), the Push API field names and
// query form, and the error answers AppsFlyer really sends (a daily quota is a
// 400 with a message, not a 429).
//
// It exists so that the ingest poller, the push receiver and the simulator
// agree on one definition of every header, field name and error text. It has
// no HTTP client and no retry policy; callers decide what to do with an
// *APIError by its Kind.
package appsflyer
