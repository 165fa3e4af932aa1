package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// User is one install: the device, its attribution and its AppsFlyer ID.
// All events of a user share these fields.
type User struct {
	App         *App
	Source      *Source
	Campaign    *Campaign // nil for organic and restricted
	Adset, Ad   int
	AppsFlyerID string
	InstallTime time.Time

	touchTime           time.Time
	touchType, channel  string
	country             *country
	device, osVersion   string
	appVersion, sdk     string
	ip, carrier         string
	wifi                bool
	adID, idfv          string
	customerUserID      string
	siteID, keywords    string
	contributor         *Source
	contributorCampaign *Campaign
}

// Event is one valid event of the world: an install or an in-app event.
type Event struct {
	seq      int64
	User     *User
	Name     string
	Time     time.Time // event time, millisecond precision, UTC
	Revenue  string    // event_revenue in the app currency, "" when none
	USD      string    // event_revenue_usd
	Value    string    // event_value JSON, "{}" when none
	S2S      bool
	Received bool // is_receipt_validated
}

// IsInstall reports whether the event is an install.
func (e *Event) IsInstall() bool { return e.Name == metricdoc.InstallEventName }

// Organic reports whether the event is organic traffic.
func (e *Event) Organic() bool { return e.User.Source.Name == OrganicSource }

// Report returns the raw-data report that lists the event.
func (e *Event) Report() string {
	switch {
	case e.IsInstall() && e.Organic():
		return appsflyer.ReportOrganicInstalls
	case e.IsInstall():
		return appsflyer.ReportInstalls
	case e.Organic():
		return appsflyer.ReportOrganicInAppEvents
	}
	return appsflyer.ReportInAppEvents
}

func newUser(rng *rand.Rand, a *App, installTime time.Time) *User {
	u := &User{App: a, InstallTime: installTime}
	u.Source = a.Sources[a.sourcePick.pick(rng)]
	u.country = &countries[rng.IntN(len(countries))]
	u.AppsFlyerID = strconv.FormatInt(installTime.Add(-time.Duration(rng.IntN(5000))*time.Millisecond).UnixMilli(), 10) + "-" + digits(rng, 7+rng.IntN(13))
	if a.Platform == "ios" {
		u.device = iosDevices[rng.IntN(len(iosDevices))]
		u.osVersion = fmt.Sprintf("%d.%d", 16+rng.IntN(3), rng.IntN(6))
		u.sdk = fmt.Sprintf("v6.%d.%d", 12+rng.IntN(3), rng.IntN(4))
		u.adID, u.idfv = strings.ToUpper(uuid(rng)), strings.ToUpper(uuid(rng))
	} else {
		u.device = androidDevices[rng.IntN(len(androidDevices))]
		u.osVersion = strconv.Itoa(11 + rng.IntN(4))
		u.sdk = fmt.Sprintf("v6.%d.%d", 12+rng.IntN(3), rng.IntN(4))
		u.adID = uuid(rng)
	}
	u.appVersion = fmt.Sprintf("%d.%d.%d", 1+rng.IntN(3), rng.IntN(20), rng.IntN(10))
	u.ip = fmt.Sprintf("%d.%d.%d.%d", 11+rng.IntN(200), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	u.carrier = carriers[rng.IntN(len(carriers))]
	u.wifi = rng.IntN(3) > 0
	if rng.IntN(3) == 0 {
		u.customerUserID = strconv.Itoa(100000 + rng.IntN(900000))
	}
	if s := u.Source; s.Attributed() {
		u.Campaign = s.Campaigns[s.campaignPick.pick(rng)]
		u.Adset = rng.IntN(len(u.Campaign.Adsets))
		u.Ad = rng.IntN(len(u.Campaign.Adsets[u.Adset].Ads))
		u.touchType = s.spec.TouchTypes[rng.IntN(len(s.spec.TouchTypes))]
		u.touchTime = installTime.Add(-time.Duration(30+rng.IntN(6*3600)) * time.Second).Truncate(time.Second)
		u.channel = s.spec.Channels[rng.IntN(len(s.spec.Channels))]
		u.siteID = "site_" + strconv.Itoa(rng.IntN(500))
		if s.Name == "apple_search_ads" || s.Name == "googleadwords_int" {
			u.keywords = []string{"puzzle game", "free games, offline", "match 3", `"best" app`}[rng.IntN(4)]
		}
		if rng.IntN(10) == 0 {
			u.contributor = a.Sources[a.sourcePick.pick(rng)]
			if !u.contributor.Attributed() || u.contributor == s {
				u.contributor = nil
			} else {
				u.contributorCampaign = u.contributor.Campaigns[u.contributor.campaignPick.pick(rng)]
			}
		}
	}
	return u
}

func uuid(rng *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
		default:
			b[i] = hex[rng.IntN(16)]
		}
	}
	return string(b)
}

// newEvent fills an in-app event of the user's (or the install, for
// name "install").
func newEvent(rng *rand.Rand, u *User, name string, t time.Time, revenue bool) *Event {
	e := &Event{User: u, Name: name, Time: t.UTC().Truncate(time.Millisecond), Value: "{}", S2S: rng.IntN(10) == 0}
	switch {
	case revenue:
		price := prices[rng.IntN(len(prices))]
		cur := u.App.Currency
		if cur == "JPY" {
			price = math.Round(price * 100)
		}
		e.Revenue = strconv.FormatFloat(price, 'f', -1, 64)
		e.USD = strconv.FormatFloat(math.Round(price*usdRate[cur]*10000)/10000, 'f', -1, 64)
		e.Value = fmt.Sprintf(`{"af_revenue":"%s","af_currency":"%s","af_content_id":"sku_%d","af_quantity":"1"}`, e.Revenue, cur, rng.IntN(20))
		e.Received = rng.IntN(2) == 0
	case name == "af_level_achieved":
		e.Value = fmt.Sprintf(`{"af_level":"%d","af_score":"%d"}`, 1+rng.IntN(60), rng.IntN(100000))
	case name == "af_complete_registration":
		e.Value = `{"af_registration_method":"` + []string{"email", "google", "apple", "facebook"}[rng.IntN(4)] + `"}`
	}
	return e
}

// Fields returns the event as Push API fields with string values, only
// non-empty keys, as a real V2 push carries them.
func (e *Event) Fields() map[string]string {
	u, a := e.User, e.User.App
	f := make(map[string]string, 64)
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	set(appsflyer.FieldAPIVersion, appsflyer.PushAPIVersion)
	set("app_id", a.ID)
	set("app_name", a.Name)
	set("bundle_id", a.BundleID)
	set("platform", a.Platform)
	set("appsflyer_id", u.AppsFlyerID)
	set("customer_user_id", u.customerUserID)
	set("event_name", e.Name)
	set("event_time", appsflyer.FormatPushTime(e.Time))
	set("install_time", appsflyer.FormatPushTime(u.InstallTime))
	set("event_value", e.Value)
	set("event_revenue", e.Revenue)
	set("event_revenue_usd", e.USD)
	set("event_revenue_currency", a.Currency)
	set("selected_currency", a.Currency)
	set("event_source", map[bool]string{false: "SDK", true: "S2S"}[e.S2S])
	if e.Revenue != "" {
		set("is_receipt_validated", strconv.FormatBool(e.Received))
	}
	set("media_source", u.Source.Name)
	set("conversion_type", "install")
	set("campaign_type", map[bool]string{false: "ua", true: "organic"}[e.Organic()])
	set("is_retargeting", "false")
	set("is_primary_attribution", "true")
	set("country_code", u.country.Code)
	set("region", u.country.Region)
	set("city", u.country.City)
	set("language", u.country.Language)
	set("ip", u.ip)
	set("wifi", strconv.FormatBool(u.wifi))
	set("carrier", u.carrier)
	set("operator", u.carrier)
	set("device_type", u.device)
	set("device_model", strings.Replace(u.device, "-", "::", 1))
	set("device_category", "phone")
	set("os_version", u.osVersion)
	set("app_version", u.appVersion)
	set("sdk_version", u.sdk)
	if a.Platform == "ios" {
		set("idfa", u.adID)
		set("idfv", u.idfv)
		set("user_agent", "Mozilla/5.0 (iPhone; CPU iPhone OS "+strings.ReplaceAll(u.osVersion, ".", "_")+" like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)")
	} else {
		set("advertising_id", u.adID)
		set("install_app_store", "com.android.vending")
		set("user_agent", "Dalvik/2.1.0 (Linux; U; Android "+u.osVersion+"; "+u.device+" Build/TP1A)")
	}
	if c := u.Campaign; c != nil {
		as := c.Adsets[u.Adset]
		ad := as.Ads[u.Ad]
		set("af_channel", u.channel)
		set("campaign", c.Name)
		set("af_c_id", c.ID)
		set("af_adset", as.Name)
		set("af_adset_id", as.ID)
		set("af_ad", ad[0])
		set("af_ad_id", ad[1])
		set("af_ad_type", "video")
		set("af_siteid", u.siteID)
		set("af_keywords", u.keywords)
		set("attributed_touch_type", u.touchType)
		set("attributed_touch_time", appsflyer.FormatPushTime(u.touchTime))
		set("af_attribution_lookback", "7d")
		set("match_type", u.Source.spec.MatchType)
		set("af_cost_model", "CPI")
		set("af_cost_value", "1.2500")
		set("af_cost_currency", "USD")
		if u.contributor != nil {
			set("contributor_1_media_source", u.contributor.Name)
			set("contributor_1_campaign", u.contributorCampaign.Name)
			set("contributor_1_touch_type", "impression")
			set("contributor_1_touch_time", appsflyer.FormatPushTime(u.touchTime.Add(-time.Hour)))
			set("contributor_1_match_type", u.contributor.spec.MatchType)
		}
	}
	return f
}
