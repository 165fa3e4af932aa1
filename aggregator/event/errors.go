package event

import "errors"

// Reason says why an event was rejected. It is carried to the dead-letter
// topic and used as a metric label, so the set is small and fixed.
type Reason string

// Rejection reasons.
const (
	ReasonBadJSON       Reason = "bad_json"
	ReasonMissingField  Reason = "missing_field"
	ReasonBadTime       Reason = "bad_time"
	ReasonBadPlatform   Reason = "unknown_platform"
	ReasonBadRevenue    Reason = "bad_revenue"
	ReasonFieldTooLarge Reason = "field_too_large"
	// ReasonBadEncoding: the input is not valid UTF-8 (JSON must be), so its
	// strings would reach the store and Grafana with U+FFFD in their place.
	ReasonBadEncoding Reason = "bad_encoding"
)

// Reasons lists every rejection reason, for pre-registering metric labels.
var Reasons = []Reason{ReasonBadJSON, ReasonMissingField, ReasonBadTime, ReasonBadPlatform, ReasonBadRevenue, ReasonFieldTooLarge, ReasonBadEncoding}

// Error is a rejected event: the reason and the offending field.
type Error struct {
	Reason Reason
	Field  string
	Detail string
}

func (e *Error) Error() string {
	msg := "invalid event: " + string(e.Reason)
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// ReasonOf returns the rejection reason of err, or "" if err is not an *Error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
