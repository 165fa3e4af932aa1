package event

import (
	"encoding/binary"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// MaxFieldBytes bounds every field the aggregator keeps in memory, so a
// hostile event cannot blow up window keys.
const MaxFieldBytes = 512

// OrganicMediaSource is what AppsFlyer calls non-attributed traffic. Push
// omits blank keys, so an event without media_source is organic.
const OrganicMediaSource = "organic"

// JSON field names (AppsFlyer Push API names) that the pipeline reads:
// the fields of Event below and the measures' sources.
const (
	FieldAppID           = "app_id"
	FieldAppsFlyerID     = "appsflyer_id"
	FieldEventName       = "event_name"
	FieldEventTime       = "event_time"
	FieldInstallTime     = "install_time"
	FieldMediaSource     = "media_source"
	FieldCampaign        = "campaign"
	FieldCampaignID      = "af_c_id"
	FieldPlatform        = "platform"
	FieldRevenue         = "event_revenue"
	FieldRevenueCurrency = "event_revenue_currency"
	FieldRevenueUSD      = "event_revenue_usd"
	FieldCountryCode     = "country_code"
)

// Event is the part of a raw event the aggregator uses.
type Event struct {
	AppID       string
	AppsFlyerID string
	EventName   string
	MediaSource string
	Campaign    string
	Platform    string    // normalised: ios, android, windowsphone
	Time        time.Time // event_time in UTC
	// Revenue in millionths of Currency; HasRevenue is false when the event
	// carries no event_revenue, so installs and revenue-less events do not
	// split their windows by currency.
	HasRevenue       bool
	Currency         string
	RevenueMicros    int64
	RevenueUSDMicros int64
}

// Identity is the de-duplication key of the event: app_id, appsflyer_id,
// event_name and event_time truncated to the second (CSV rows have no
// milliseconds), hashed to 64 bits. The same event delivered by push and by
// a pull backfill has the same identity.
func (e *Event) Identity() uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(e.AppID)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(e.AppsFlyerID)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(e.EventName)
	var sec [9]byte
	binary.LittleEndian.PutUint64(sec[1:], uint64(e.Time.Unix()))
	_, _ = d.Write(sec[:])
	return d.Sum64()
}

// Meta returns the window dimensions of the event.
func (e *Event) Meta() metricdoc.Meta {
	m := metricdoc.Meta{
		AppID:       e.AppID,
		MediaSource: e.MediaSource,
		Campaign:    e.Campaign,
		Platform:    e.Platform,
		EventName:   e.EventName,
	}
	if e.HasRevenue {
		m.Currency = e.Currency
	}
	return m
}

// Totals returns the measures one occurrence of the event adds to a window.
func (e *Event) Totals() metricdoc.Totals {
	return metricdoc.Totals{Events: 1, RevenueMicros: e.RevenueMicros, RevenueUSDMicros: e.RevenueUSDMicros}
}
