package appsflyer

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/campaignpulse/campaignpulse/aggregator/event"
)

func TestPushQueryToJSON(t *testing.T) {
	q, err := url.ParseQuery("app_id=com.example.game&appsflyer_id=1698811503838-647100570385722663&event_name=af_purchase" +
		"&event_time=2026-11-26+10%3A49%3A04.897&platform=android&event_revenue=4.99&event_revenue_currency=EUR" +
		"&campaign=Black+%22Friday%22&event_value=%7B%22af_revenue%22%3A%224.99%22%7D&dma=&wifi=true&wifi=false&api_version=2.0")
	if err != nil {
		t.Fatal(err)
	}
	b := PushQueryToJSON(q)
	want := `{"api_version":"2.0","app_id":"com.example.game","appsflyer_id":"1698811503838-647100570385722663",` +
		`"campaign":"Black \"Friday\"","event_name":"af_purchase","event_revenue":"4.99","event_revenue_currency":"EUR",` +
		`"event_time":"2026-11-26 10:49:04.897","event_value":"{\"af_revenue\":\"4.99\"}","platform":"android","wifi":"true"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var e event.Event
	if err := event.Parse(b, &e); err != nil || e.RevenueMicros != 4_990_000 {
		t.Fatalf("parse: %v %+v", err, e)
	}
	if got := string(PushQueryToJSON(url.Values{})); got != "{}" {
		t.Fatalf("empty query -> %s", got)
	}
	if !json.Valid(PushQueryToJSON(url.Values{"k\xff\"": {"v\x00"}})) {
		t.Fatal("hostile query must still give valid JSON")
	}
}
