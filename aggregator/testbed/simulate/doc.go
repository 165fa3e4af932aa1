// Package simulate is a deterministic fake of AppsFlyer and of the traffic
// it sends, so that tests, `make run` and benchmarks exercise the pipeline
// without an AppsFlyer account, and can check results exactly.
//
//   - World: apps, media sources and campaigns from a seed.
//   - Traffic: push deliveries over time at a rate, with configurable shares
//     of duplicate, late, malformed and dropped deliveries. Every valid event
//     is recorded in the World, so the Pull API can serve it later.
//   - Server: the Pull API raw-data endpoints (CSV, 302 to a one-time file,
//     quotas, lookback, errors as AppsFlyer sends them, injectable faults).
//   - Pusher: the Push API client that POSTs (or GETs) deliveries.
//   - Truth: the expected totals per window, computed with the aggregator's
//     own definitions (event.Parse, Event.Identity, Event.Meta,
//     metricdoc.WindowStart), so any difference is a pipeline bug.
//
// Pull API range semantics (a design choice; AppsFlyer documents none):
// from is inclusive; to is inclusive of its whole unit, so to=2026-11-26
// covers the day, to=2026-11-26 10:00 covers 10:00:00-10:00:59 and
// to=2026-11-26 10:00:59 ends after that second. Event times are compared
// truncated to the second, as the CSV shows them. A poller that wants the
// half-open window [a, b) sends from=a and to=b-1s with seconds.
package simulate
