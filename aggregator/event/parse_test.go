package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const pushInstall = `{"api_version":"2.0","app_id":"id123456789","appsflyer_id":"1707053358481-2071216",` +
	`"event_name":"install","event_time":"2026-11-26 10:49:04.897","install_time":"2026-11-26 10:49:04.897",` +
	`"media_source":"Facebook Ads","campaign":"BF_iOS_US","af_c_id":"23861457577810710","platform":"ios",` +
	`"is_retargeting":"false","wifi":"true","event_value":"{}","event_revenue_currency":"USD","country_code":"UK"}`

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   Event
		reason Reason
	}{
		{
			name: "push install with string values",
			in:   pushInstall,
			want: Event{AppID: "id123456789", AppsFlyerID: "1707053358481-2071216", EventName: "install",
				MediaSource: "Facebook Ads", Campaign: "BF_iOS_US", Platform: "ios",
				Time: time.Date(2026, 11, 26, 10, 49, 4, 897_000_000, time.UTC)},
		},
		{
			name: "typed purchase with revenue and nested value",
			in: `{"app_id":"com.example.game","appsflyer_id":"1","event_name":"af_purchase","event_time":"2026-11-26 10:00:00",` +
				`"platform":"android","event_revenue":4.99,"event_revenue_currency":"EUR","event_revenue_usd":"5.4321",` +
				`"event_value":{"af_revenue":"4.99","list":[1,"]}",{"x":null}]},"wifi":true,"dma":null}`,
			want: Event{AppID: "com.example.game", AppsFlyerID: "1", EventName: "af_purchase", MediaSource: "organic",
				Platform: "android", Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
				HasRevenue: true, Currency: "EUR", RevenueMicros: 4_990_000, RevenueUSDMicros: 5_432_100},
		},
		{
			name: "escaped campaign and offset time",
			in:   `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26T12:00:00+02:00","platform":"ios","campaign":"Black \"Friday\" \u00e9"}`,
			want: Event{AppID: "a", AppsFlyerID: "b", EventName: "x", MediaSource: "organic", Campaign: `Black "Friday" é`,
				Platform: "ios", Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)},
		},
		{
			name: "revenue in USD without event_revenue_usd counts as USD",
			in: `{"app_id":"a","appsflyer_id":"b","event_name":"af_purchase","event_time":"2026-11-26 10:00:00",` +
				`"platform":"ios","event_revenue":"147171.25","event_revenue_currency":"USD"}`,
			want: Event{AppID: "a", AppsFlyerID: "b", EventName: "af_purchase", MediaSource: "organic", Platform: "ios",
				Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), HasRevenue: true, Currency: "USD",
				RevenueMicros: 147_171_250_000, RevenueUSDMicros: 147_171_250_000},
		},
		{
			name: "explicit event_revenue_usd wins for USD revenue",
			in: `{"app_id":"a","appsflyer_id":"b","event_name":"af_purchase","event_time":"2026-11-26 10:00:00",` +
				`"platform":"ios","event_revenue":"10","event_revenue_currency":"usd","event_revenue_usd":"9.5"}`,
			want: Event{AppID: "a", AppsFlyerID: "b", EventName: "af_purchase", MediaSource: "organic", Platform: "ios",
				Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), HasRevenue: true, Currency: "usd",
				RevenueMicros: 10_000_000, RevenueUSDMicros: 9_500_000},
		},
		{
			name: "non-USD revenue without event_revenue_usd has no USD value",
			in: `{"app_id":"a","appsflyer_id":"b","event_name":"af_purchase","event_time":"2026-11-26 10:00:00",` +
				`"platform":"ios","event_revenue":"10","event_revenue_currency":"EUR"}`,
			want: Event{AppID: "a", AppsFlyerID: "b", EventName: "af_purchase", MediaSource: "organic", Platform: "ios",
				Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), HasRevenue: true, Currency: "EUR", RevenueMicros: 10_000_000},
		},
		{name: "invalid UTF-8 in app_id", in: `{"app_id":"id1` + "\xff" + `23","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"ios"}`, reason: ReasonBadEncoding},
		{name: "invalid UTF-8 in an unused field", in: `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"ios","city":"M` + "\xfc" + `nchen"}`, reason: ReasonBadEncoding},
		{name: "not json", in: `hello`, reason: ReasonBadJSON},
		{name: "truncated", in: pushInstall[:100], reason: ReasonBadJSON},
		{name: "trailing garbage", in: pushInstall + "x", reason: ReasonBadJSON},
		{name: "array", in: `[1,2]`, reason: ReasonBadJSON},
		{name: "missing appsflyer_id", in: `{"app_id":"a","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"ios"}`, reason: ReasonMissingField},
		{name: "null event_time", in: `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":null,"platform":"ios"}`, reason: ReasonMissingField},
		{name: "garbled time", in: `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-13-01 10:00:00","platform":"ios"}`, reason: ReasonBadTime},
		{name: "feb 30", in: `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-02-30 10:00:00","platform":"ios"}`, reason: ReasonBadTime},
		{name: "unknown platform", in: `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"amiga"}`, reason: ReasonBadPlatform},
		{name: "bad revenue", in: `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"ios","event_revenue":"12abc"}`, reason: ReasonBadRevenue},
		{name: "object as app_id", in: `{"app_id":{"a":1},"appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"ios"}`, reason: ReasonBadJSON},
		{name: "huge campaign", in: `{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"ios","campaign":"` + strings.Repeat("c", 600) + `"}`, reason: ReasonFieldTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Event
			err := Parse([]byte(tt.in), &got)
			if tt.reason != "" {
				if ReasonOf(err) != tt.reason {
					t.Fatalf("err = %v, want reason %s", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestIdentityIgnoresSubSecondAndSource(t *testing.T) {
	var push, pull Event
	if err := Parse([]byte(pushInstall), &push); err != nil {
		t.Fatal(err)
	}
	csvShaped := strings.Replace(pushInstall, "10:49:04.897", "10:49:04", 1)
	csvShaped = strings.Replace(csvShaped, `"media_source":"Facebook Ads",`, `"media_source":"Facebook Ads","event_source":"SDK",`, 1)
	if err := Parse([]byte(csvShaped), &pull); err != nil {
		t.Fatal(err)
	}
	if push.Identity() != pull.Identity() {
		t.Fatal("push and pull copies of one event must share an identity")
	}
	other := push
	other.EventName = "af_purchase"
	if other.Identity() == push.Identity() {
		t.Fatal("different event names must not share an identity")
	}
	later := push
	later.Time = later.Time.Add(time.Second)
	if later.Identity() == push.Identity() {
		t.Fatal("different seconds must not share an identity")
	}
}

func TestMetaCurrencyOnlyWithRevenue(t *testing.T) {
	var e Event
	if err := Parse([]byte(pushInstall), &e); err != nil {
		t.Fatal(err)
	}
	if m := e.Meta(); m.Currency != "" || m.EventName != "install" || m.Platform != "ios" {
		t.Fatalf("install meta = %+v", m)
	}
}

func TestParseMicros(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"9.99", 9_990_000, true}, {"0", 0, true}, {"-0.5", -500_000, true}, {"12", 12_000_000, true},
		{"0.1234567", 123_457, true}, {"0.1234564", 123_456, true}, {"1e2", 100_000_000, true},
		{".5", 500_000, true}, {"", 0, false}, {"abc", 0, false}, {"1.2.3", 0, false}, {"-", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseMicros([]byte(tt.in))
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("ParseMicros(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParse checks that Parse never panics, that everything it accepts is
// valid JSON, and that accepted events are internally consistent.
func FuzzParse(f *testing.F) {
	f.Add([]byte(pushInstall))
	f.Add([]byte(`{"app_id":"a","appsflyer_id":"b","event_name":"x","event_time":"2026-11-26 10:00:00","platform":"ios","event_revenue":"1.5"}`))
	f.Add([]byte(`{"a":[{"b":"\"}"}],"app_id":"\u0041"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if err := Parse(b, &e); err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		if e.AppID == "" || e.AppsFlyerID == "" || e.EventName == "" || e.Platform == "" || e.Time.IsZero() {
			t.Fatalf("accepted incomplete event %+v", e)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	// ~1 KB, shaped like a real push with every default field as a string.
	var sb strings.Builder
	sb.WriteString(pushInstall[:len(pushInstall)-1])
	for i := 0; sb.Len() < 1000; i++ {
		sb.WriteString(`,"af_sub` + string(rune('1'+i%5)) + `_` + strings.Repeat("x", i%3) + `":"value-of-a-sub-parameter"`)
	}
	sb.WriteString("}")
	in := []byte(sb.String())
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var e Event
	for b.Loop() {
		if err := Parse(in, &e); err != nil {
			b.Fatal(err)
		}
		_ = e.Identity()
	}
}
