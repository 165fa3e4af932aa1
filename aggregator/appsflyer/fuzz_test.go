package appsflyer

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
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
