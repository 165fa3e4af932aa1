package appsflyer

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
)

// rawLine builds one CSV line in the default column order from already
// encoded cells (quoting written literally, as AppsFlyer sends it), keyed
// by header, followed by extra raw cells.
func rawLine(cells map[string]string, extra ...string) string {
	out := make([]string, 0, len(DefaultColumns)+len(extra))
	for _, c := range DefaultColumns {
		out = append(out, cells[c.Header])
	}
	return strings.Join(append(out, extra...), ",")
}

func headerLine(extra ...string) string {
	h := make([]string, 0, len(DefaultColumns)+len(extra))
	for _, c := range DefaultColumns {
		h = append(h, c.Header)
	}
	return strings.Join(append(h, extra...), ",")
}

func readAll(t *testing.T, body string) []map[string]string {
	t.Helper()
	r, err := NewRowReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for {
		b, err := r.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("line %d: %v", r.Line(), err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("row is not a JSON object of strings: %v: %s", err, b)
		}
		rows = append(rows, m)
	}
}

// Shapes taken from real exports: BOM, CRLF, "null" Event Value, "None" DMA,
// a restricted row with ",," attribution, a JSON value with doubled quotes,
// a quoted User-Agent with commas, and a column AppsFlyer added later.
func TestRowReaderRealShapes(t *testing.T) {
	install := map[string]string{
		"Attributed Touch Type": "click", "Attributed Touch Time": "2024-02-27 06:58:10",
		"Install Time": "2024-02-27 07:01:52", "Event Time": "2024-02-27 07:01:52", "Event Name": "install",
		"Event Value": "null", "Event Revenue Currency": "USD", "Event Source": "SDK", "Media Source": "Facebook Ads",
		"Channel": "Facebook", "Campaign": `"BF, iOS ""US"""`, "Campaign ID": "23861457577810710", "Region": "EU",
		"Country Code": "UK", "DMA": "None", "WIFI": "true", "AppsFlyer ID": "1707053358481-2071216",
		"Platform": "ios", "App ID": "id123456789", "Is Retargeting": "false", "Is Primary Attribution": "true",
		"User Agent": `"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X), AppleWebKit"`, "IDFA": "N/A",
	}
	purchase := map[string]string{
		"Install Time": "2024-02-27 07:01:52", "Event Time": "2024-02-27 09:15:00", "Event Name": "af_purchase",
		"Event Value":   `"{""af_revenue"":""9.99"",""af_currency"":""EUR""}"`,
		"Event Revenue": "9.99", "Event Revenue Currency": "EUR", "Event Revenue USD": "10.8123",
		"Media Source": "restricted", "Country Code": "DE", "AppsFlyer ID": "1707053358481-2071216",
		"Platform": "android", "App ID": "com.example.game",
	}
	body := "\uFEFF" + headerLine("New Column (beta)") + "\r\n" +
		rawLine(install, "x") + "\r\n" + rawLine(purchase, "") + "\r\n"
	rows := readAll(t, body)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	in := rows[0]
	for k, want := range map[string]string{
		"attributed_touch_type": "click", "campaign": `BF, iOS "US"`, "media_source": "Facebook Ads",
		"country_code": "UK", "wifi": "true", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X), AppleWebKit",
		"new_column_beta": "x", "event_revenue_currency": "USD", "af_c_id": "23861457577810710",
	} {
		if in[k] != want {
			t.Errorf("install %s = %q, want %q", k, in[k], want)
		}
	}
	for _, k := range []string{"event_value", "dma", "idfa", "event_revenue", "af_adset"} {
		if v, ok := in[k]; ok {
			t.Errorf("install has %s = %q; sentinel and empty cells must be omitted", k, v)
		}
	}
	p := rows[1]
	if p["event_value"] != `{"af_revenue":"9.99","af_currency":"EUR"}` {
		t.Errorf("event_value = %q", p["event_value"])
	}
	if _, ok := p["attributed_touch_time"]; ok {
		t.Error("restricted row: blank attribution must be omitted")
	}

	var e event.Event
	b, _ := json.Marshal(p)
	if err := event.Parse(b, &e); err != nil {
		t.Fatal(err)
	}
	if e.RevenueMicros != 9_990_000 || e.Currency != "EUR" || e.RevenueUSDMicros != 10_812_300 ||
		e.MediaSource != "restricted" || !e.Time.Equal(time.Date(2024, 2, 27, 9, 15, 0, 0, time.UTC)) {
		t.Fatalf("parsed purchase %+v", e)
	}
}

func TestRowReaderRecoversFromBadRows(t *testing.T) {
	good := map[string]string{"Event Time": "2024-02-27 07:01:52", "Event Name": "install", "AppsFlyer ID": "1-1", "Platform": "ios", "App ID": "id1"}
	body := headerLine() + "\n" +
		rawLine(good) + "\n" + // line 2
		"a,b,c\n" + // line 3: ragged
		rawLine(good) + ",extra\n" + // line 4: ragged
		`x"y` + rawLine(good) + "\n" + // line 5: bare quote
		rawLine(good) + "\n" // line 6
	r, err := NewRowReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var okLines, badLines []int
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			if re.Line != r.Line() {
				t.Errorf("RowError line %d, Line() %d", re.Line, r.Line())
			}
			badLines = append(badLines, re.Line)
		case err != nil:
			t.Fatal(err)
		default:
			if !json.Valid(b) {
				t.Fatalf("invalid JSON %s", b)
			}
			okLines = append(okLines, r.Line())
		}
	}
	if want := []int{2, 6}; !equalInts(okLines, want) {
		t.Errorf("good rows at %v, want %v", okLines, want)
	}
	if want := []int{3, 4, 5}; !equalInts(badLines, want) {
		t.Errorf("bad rows at %v, want %v", badLines, want)
	}
	if err := (&RowError{Line: 3, Err: ErrRaggedRow}); !errors.Is(err, ErrRaggedRow) {
		t.Error("RowError must unwrap")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRowReaderRejectsNonReports(t *testing.T) {
	for name, body := range map[string]string{
		"empty":        "",
		"html page":    "<!DOCTYPE html>\n<html><head><title>404</title></head></html>\n",
		"json error":   `{"message":"Supplied API token is invalid"}`,
		"missing time": strings.Replace(headerLine(), "Event Time,", "", 1) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewRowReader(strings.NewReader(body)); !errors.Is(err, ErrBadHeader) {
				t.Fatalf("err = %v, want ErrBadHeader", err)
			}
		})
	}
}

func TestRowReaderHeaderOnlyIsEmpty(t *testing.T) {
	if rows := readAll(t, headerLine()+"\n"); len(rows) != 0 {
		t.Fatalf("got %d rows", len(rows))
	}
	if rows := readAll(t, headerLine()); len(rows) != 0 {
		t.Fatalf("no trailing newline: got %d rows", len(rows))
	}
}

func TestRowReaderDuplicateAndBlankHeaders(t *testing.T) {
	body := headerLine("Campaign", "") + "\n" + rawLine(map[string]string{"Campaign": "a"}, "b", "c") + "\n"
	r, err := NewRowReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	f := r.Fields()
	if f[81] != "campaign_2" || f[82] != "column_83" {
		t.Fatalf("extra fields = %v", f[81:])
	}
	b, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || m["campaign"] != "a" || m["campaign_2"] != "b" || m["column_83"] != "c" {
		t.Fatalf("row %s (%v)", b, err)
	}
}

func TestRowReaderSetLocation(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	cells := map[string]string{"Event Time": "2026-11-26 01:30:00", "Install Time": "2026-11-25 23:00:00", "Event Name": "install",
		"AppsFlyer ID": "1-1", "App ID": "id1", "Platform": "ios", "Campaign": "2026-11-26 01:30:00"}
	r, err := NewRowReader(strings.NewReader(headerLine() + "\n" + rawLine(cells) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	r.SetLocation(paris)
	b, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	want := map[string]string{"event_time": "2026-11-26 00:30:00", "install_time": "2026-11-25 22:00:00", "campaign": "2026-11-26 01:30:00"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\nr\r\x00\x1f", "é😀", "bad\xffutf8\xc3", "<>&\u2028"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q -> %s: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if s == "bad\xffutf8\xc3" {
			want = "bad\uFFFDutf8\uFFFD"
		}
		if got != want {
			t.Errorf("%q -> %q, want %q", s, got, want)
		}
	}
}
