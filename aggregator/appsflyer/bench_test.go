package appsflyer

import (
	"bytes"
	"strconv"
	"testing"
)

// benchRow is a realistic attributed in-app row (about 1 KB of CSV).
var benchRow = map[string]string{
	"attributed_touch_type": "click", "attributed_touch_time": "2026-11-26 09:16:05", "install_time": "2026-11-26 10:41:39",
	"event_time": "2026-11-26 14:41:39", "event_name": "af_purchase", "event_value": `{"af_revenue":"9.99","af_currency":"EUR","af_content_id":"sku_3"}`,
	"event_revenue": "9.99", "event_revenue_currency": "EUR", "event_revenue_usd": "10.7892", "event_source": "SDK",
	"media_source": "Facebook Ads", "af_channel": "Instagram", "campaign": "XMAS_iOS_DE_FB_02", "af_c_id": "60292218281243188",
	"af_adset": "XMAS_adset_3", "af_adset_id": "17275713246618824", "af_ad": "creative_B_96", "af_ad_id": "33159902824667370",
	"af_ad_type": "video", "af_siteid": "site_238", "af_cost_model": "CPI", "af_cost_value": "1.2500", "af_cost_currency": "USD",
	"region": "EU", "country_code": "DE", "city": "Berlin", "ip": "118.30.19.4", "wifi": "true", "operator": "Vodafone",
	"carrier": "Vodafone", "language": "Deutsch", "appsflyer_id": "1793577597981-456803156", "idfa": "76CBB4AA-5C25-0B77-5D79-EA62167C4A2A",
	"idfv": "364476BE-A334-8315-ABFC-33BA3375FFDD", "platform": "ios", "device_type": "iPhone14,5", "os_version": "17.4",
	"app_version": "2.13.9", "sdk_version": "v6.14.2", "app_id": "id8612886302", "app_name": "Bank Tiles", "bundle_id": "com.bank.tilesios",
	"is_retargeting": "false", "af_attribution_lookback": "7d", "is_primary_attribution": "true",
	"user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)",
}

// BenchmarkRowReader measures CSV row -> raw_events JSON, the pull path's
// per-row cost.
func BenchmarkRowReader(b *testing.B) {
	var buf bytes.Buffer
	w := NewRowWriter(&buf, nil)
	const rows = 10000
	for i := range rows {
		benchRow["appsflyer_id"] = "1793577597981-" + strconv.Itoa(i)
		if err := w.Write(benchRow); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data) / rows))
	b.ReportAllocs()
	var r *RowReader
	for i := 0; b.Loop(); i++ {
		if i%rows == 0 {
			var err error
			if r, err = NewRowReader(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
