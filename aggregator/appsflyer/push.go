package appsflyer

import (
	"net/url"
	"slices"
	"time"
)

// PushQueryToJSON turns a GET-form postback (fields as query parameters)
// into the raw_events JSON object a POST postback would have carried: keys
// sorted for determinism, the first value of each key as a string, empty
// values omitted (push never sends blank keys).
func PushQueryToJSON(q url.Values) []byte {
	keys := make([]string, 0, len(q))
	for k, v := range q {
		if k != "" && len(v) > 0 && v[0] != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, 64*len(keys)+2)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, q[k][0])
	}
	return append(b, '}')
}

// FormatPushTime renders t as a push timestamp: UTC with milliseconds.
func FormatPushTime(t time.Time) string { return t.UTC().Format(PushTimeLayout) }

// FormatCSVTime renders t as a pull CSV cell in loc (nil means UTC).
func FormatCSVTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(CSVTimeLayout)
}
