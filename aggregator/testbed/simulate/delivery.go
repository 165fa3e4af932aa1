package simulate

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
)

// Delivery is one push AppsFlyer sends (or, when Dropped, fails to send).
type Delivery struct {
	Seq int64     // position in the stream, from 0
	At  time.Time // when AppsFlyer sends it
	// Event is the valid event delivered; nil for a malformed delivery.
	Event *Event
	// Late: the event time is MinLateness..MaxLateness before At.
	Late bool
	// Duplicate: an extra copy of an event delivered before.
	Duplicate bool
	// Dropped: the push path loses it; only a pull backfill recovers it.
	Dropped bool
	// Malformed: garbage the aggregator must dead-letter with Reason (as
	// a JSON body; in GET query form bad JSON cannot exist and becomes a
	// missing event_name).
	Malformed bool
	Reason    event.Reason

	bad     map[string]string // malformed fields
	badJSON int               // > 0: JSON body truncated to this many bytes
}

// Fields returns the pushed fields (push names, string values, no empty
// keys).
func (d *Delivery) Fields() map[string]string {
	if d.Malformed {
		return maps.Clone(d.bad)
	}
	return d.Event.Fields()
}

// JSON returns the POST body: all values as strings, as real pushes send
// them, or typed (JSON booleans and numbers) when typed is set.
func (d *Delivery) JSON(typed bool) []byte {
	var b []byte
	if typed {
		b = marshal(typedValues(d.Fields()))
	} else {
		b = marshal(d.Fields())
	}
	if d.badJSON > 0 {
		b = b[:min(d.badJSON, len(b)-1)] // typed bodies are shorter
	}
	return b
}

// Query returns the fields as GET query parameters.
func (d *Delivery) Query() url.Values {
	f := d.Fields()
	if d.badJSON > 0 {
		delete(f, "event_name")
	}
	q := make(url.Values, len(f))
	for k, v := range f {
		q.Set(k, v)
	}
	return q
}

func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // maps of strings and scalars cannot fail
	return bytes.TrimRight(buf.Bytes(), "\n")
}

var boolFields = map[string]bool{"wifi": true, "is_retargeting": true, "is_primary_attribution": true, "is_receipt_validated": true, "is_lat": true}
var numberFields = map[string]bool{"event_revenue": true, "event_revenue_usd": true, "af_cost_value": true}

// typedValues mirrors AppsFlyer's own example payloads: JSON booleans and
// numbers where the value allows.
func typedValues(f map[string]string) map[string]any {
	out := make(map[string]any, len(f))
	for k, v := range f {
		switch {
		case boolFields[k] && (v == "true" || v == "false"):
			out[k] = v == "true"
		case numberFields[k] && json.Valid([]byte(v)):
			out[k] = json.Number(v)
		default:
			out[k] = v
		}
	}
	return out
}

// malformed turns a generated (and discarded) event into a broken delivery.
func malformed(rng *rand.Rand, at time.Time, ev *Event) Delivery {
	d := Delivery{At: at, Malformed: true, bad: ev.Fields()}
	switch rng.IntN(4) {
	case 0:
		d.Reason = event.ReasonBadJSON
		full := len(marshal(d.bad))
		d.badJSON = 1 + rng.IntN(full-1)
	case 1:
		d.Reason = event.ReasonBadTime
		d.bad["event_time"] = []string{"2026-13-45 25:61:00.000", "26/11/2026 10:49", "yesterday", "2026-02-30 10:00:00.000", "1764154144897"}[rng.IntN(5)]
	case 2:
		d.Reason = event.ReasonBadPlatform
		d.bad["platform"] = []string{"amiga", "symbian", "blackberry", "IOS "}[rng.IntN(4)]
	default:
		d.Reason = event.ReasonMissingField
		keys := []string{"app_id", "appsflyer_id", "event_name", "event_time", "platform"}
		delete(d.bad, keys[rng.IntN(len(keys))])
	}
	return d
}

// sortedKeys is used where deterministic iteration matters.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
