// Package push is the HTTP receiver for AppsFlyer Push API postbacks (POST
// JSON or GET query form). AppsFlyer does not resend a push that failed, so
// the receiver never answers 2xx for an event Kafka has not acknowledged: a
// 503 at least shows up in AppsFlyer's delivery log and in our metrics, and
// the pull backfill recovers the event.
package push
