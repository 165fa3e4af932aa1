package appsflyer

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
)

// Writer -> reader -> event.Parse must preserve every value a simulator can
// produce, including the ones that need RFC 4180 quoting.
func TestRowWriterReaderRoundTrip(t *testing.T) {
	rows := []map[string]string{
		{
			"app_id": "id123456789", "appsflyer_id": "1707053358481-2071216", "event_name": "af_purchase",
			"event_time": "2026-11-26 10:49:04.897", "install_time": "2026-11-26 09:00:00.000", "platform": "ios",
			"media_source": "Facebook Ads", "campaign": `Black "Friday", 50% off`, "af_keywords": "shoes, red\nshoes",
			"user_agent": " leading space, trailing ", "event_value": `{"af_revenue":"9.99","af_content":"a,b"}`,
			"event_revenue": "9.99", "event_revenue_currency": "EUR", "event_revenue_usd": "10.8123",
			"country_code": "UK", "wifi": "true", "city": "Zürich", "af_sub1": "\"",
			"contributor_2_match_type": "srn", "device_category": "phone",
		},
		{
			"app_id": "com.example.game", "appsflyer_id": "1698811503838-647100570385722663", "event_name": "install",
			"event_time": "2026-11-26 10:00:00", "platform": "android", "media_source": "organic", "event_value": "{}",
		},
	}
	var buf bytes.Buffer
	w := NewRowWriter(&buf, []string{"contributor2_match_type", "device_category"})
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"{""af_revenue"":""9.99"",""af_content"":""a,b""}"`) {
		t.Error("JSON cell must be written with doubled quotes")
	}
	if !strings.Contains(buf.String(), ",null,") {
		t.Error("an empty Event Value must be the literal null")
	}
	if strings.Contains(buf.String(), ".897") {
		t.Error("CSV date-times must not carry milliseconds")
	}
	if !strings.HasSuffix(strings.SplitN(buf.String(), "\n", 2)[0], ",Contributor 2 Match Type,Device Category") {
		t.Error("additional headers must follow the default columns in request order")
	}

	r, err := NewRowReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range rows {
		b, err := r.Next()
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		var got map[string]string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			switch {
			case k == "event_value" && v == "{}":
				v = ""
			case k == "event_time" || k == "install_time":
				v = v[:len(CSVTimeLayout)]
			}
			if got[k] != v {
				t.Errorf("row %d %s = %q, want %q", i, k, got[k], v)
			}
		}
		if len(got) != len(want)-btoi(want["event_value"] == "{}") {
			t.Errorf("row %d has %d fields, want %d: %s", i, len(got), len(want), b)
		}
		var e event.Event
		if err := event.Parse(b, &e); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if e.AppID != want["app_id"] || e.Time.Nanosecond() != 0 {
			t.Errorf("row %d parsed as %+v", i, e)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after last row: %v", err)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRowWriterLocationRoundTrip(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	var buf bytes.Buffer
	w := NewRowWriter(&buf, nil)
	w.SetLocation(tokyo)
	in := map[string]string{"app_id": "a", "appsflyer_id": "b", "event_name": "install", "platform": "ios", "event_time": "2026-11-26 20:00:00.123"}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "2026-11-27 05:00:00") {
		t.Fatalf("event time not rendered in Tokyo time:\n%s", buf.String())
	}
	r, err := NewRowReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	r.SetLocation(tokyo)
	b, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	var e event.Event
	if err := event.Parse(b, &e); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC); !e.Time.Equal(want) {
		t.Fatalf("time %v, want %v", e.Time, want)
	}
}

func TestFormatTimes(t *testing.T) {
	ts := time.Date(2026, 11, 26, 10, 49, 4, 897_000_000, time.FixedZone("x", 3600))
	if got := FormatPushTime(ts); got != "2026-11-26 09:49:04.897" {
		t.Errorf("push %q", got)
	}
	if got := FormatCSVTime(ts, nil); got != "2026-11-26 09:49:04" {
		t.Errorf("csv %q", got)
	}
}
