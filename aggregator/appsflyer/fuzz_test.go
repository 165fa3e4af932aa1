package appsflyer

import (
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRowReader: the reader never panics or loops, every row it accepts is
// a JSON object of strings, and every failure is either a bad header or a
// recoverable *RowError.
func FuzzRowReader(f *testing.F) {
	h := headerLine()
	row := rawLine(map[string]string{"Event Time": "2024-02-27 07:01:52", "Event Name": "install", "AppsFlyer ID": "1-1",
		"Platform": "ios", "App ID": "id1", "Event Value": `"{""a"":""b,c""}"`, "DMA": "None", "User Agent": `"x, y"`})
	f.Add(h + "\n" + row + "\n")
	f.Add("\uFEFF" + h + "\r\n" + row + "\r\n" + row)
	f.Add(h + "\n" + "a,b\n" + row + "\n")
	f.Add(h + "\n\"unterminated\n" + row)
	f.Add(h + ",\"\"\"\n" + row + ",\xff\x00\n")
	f.Add("Event Time,Event Name,AppsFlyer ID,App ID\n2024-01-01 00:00:00,x,\"multi\nline\",\"\"\"\"\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		r, err := NewRowReader(strings.NewReader(body))
		if err != nil {
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("header error not ErrBadHeader: %v", err)
			}
			return
		}
		for i := 0; ; i++ {
			if i > len(body)+1 {
				t.Fatalf("more rows than bytes: reader does not progress")
			}
			b, err := r.Next()
			if err == io.EOF {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				t.Fatalf("unexpected error kind: %v", err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("accepted row is not a JSON object of strings: %v: %q", err, b)
			}
			if len(m) > len(r.Fields()) {
				t.Fatalf("row has %d keys, header %d", len(m), len(r.Fields()))
			}
		}
	})
}

// FuzzPushQueryToJSON: any GET postback query becomes a valid JSON object
// holding the first non-empty value of every key.
func FuzzPushQueryToJSON(f *testing.F) {
	f.Add("app_id=id1&appsflyer_id=1-1&event_name=install&event_time=2026-11-26+10%3A00%3A00.000&platform=ios")
	f.Add("a=&a=1&b=%22%5C%00&%FF=%E2%80%A8")
	f.Add("k=v1&k=v2&=empty")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		var m map[string]string
		if err := json.Unmarshal(PushQueryToJSON(q), &m); err != nil {
			t.Fatalf("invalid JSON for %q: %v", raw, err)
		}
		for k, v := range q {
			if k == "" || len(v) == 0 || v[0] == "" {
				if _, ok := m[k]; ok && k != "" {
					t.Fatalf("empty key %q kept", k)
				}
				continue
			}
			if utf8.ValidString(k) && utf8.ValidString(v[0]) && m[k] != v[0] {
				t.Fatalf("%q = %q, want %q", k, m[k], v[0])
			}
		}
	})
}
