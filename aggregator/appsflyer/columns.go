package appsflyer

import "strings"

// Raw-data report names (the path segment before /v5).
const (
	ReportInstalls           = "installs_report"
	ReportInAppEvents        = "in_app_events_report"
	ReportOrganicInstalls    = "organic_installs_report"
	ReportOrganicInAppEvents = "organic_in_app_events_report"
)

// Reports lists the raw-data reports campaignpulse pulls.
var Reports = []string{ReportInstalls, ReportInAppEvents, ReportOrganicInstalls, ReportOrganicInAppEvents}

// IsReport reports whether name is one of Reports.
func IsReport(name string) bool {
	for _, r := range Reports {
		if r == name {
			return true
		}
	}
	return false
}

// IsInAppReport reports whether the report holds in-app events (as opposed
// to installs); only those accept the event_name filter.
func IsInAppReport(report string) bool {
	return report == ReportInAppEvents || report == ReportOrganicInAppEvents
}

// IsOrganicReport reports whether the report holds organic traffic.
func IsOrganicReport(report string) bool {
	return report == ReportOrganicInstalls || report == ReportOrganicInAppEvents
}

// Time layouts and row limits of the Pull and Push APIs.
const (
	CSVTimeLayout  = "2006-01-02 15:04:05"     // pull CSV cells, UTC unless timezone given
	PushTimeLayout = "2006-01-02 15:04:05.000" // push JSON values, UTC
	MaxRowsDefault = 200000                    // maximum_rows when omitted
	MaxRowsLarge   = 1000000                   // the only other accepted maximum_rows
)

// LookbackDays is how far back raw data can be queried.
const LookbackDays = 90

// Push API constants.
const (
	PushAPIVersion  = "2.0" // value of api_version in every V2 push
	FieldAPIVersion = "api_version"
)

// Column maps a CSV header to the Push API field name used in raw_events.
type Column struct{ Header, Field string }

// DefaultColumns are the 81 default columns of the installs, in-app events
// and organic raw-data reports, in the order AppsFlyer sends them. Field is
// the Push API spelling (contributor_1_af_prt, not the API's
// contributor1_af_prt) because raw_events carries push names only.
var DefaultColumns = []Column{
	{"Attributed Touch Type", "attributed_touch_type"},
	{"Attributed Touch Time", "attributed_touch_time"},
	{"Install Time", "install_time"},
	{"Event Time", "event_time"},
	{"Event Name", "event_name"},
	{"Event Value", "event_value"},
	{"Event Revenue", "event_revenue"},
	{"Event Revenue Currency", "event_revenue_currency"},
	{"Event Revenue USD", "event_revenue_usd"},
	{"Event Source", "event_source"},
	{"Is Receipt Validated", "is_receipt_validated"},
	{"Partner", "af_prt"},
	{"Media Source", "media_source"},
	{"Channel", "af_channel"},
	{"Keywords", "af_keywords"},
	{"Campaign", "campaign"},
	{"Campaign ID", "af_c_id"},
	{"Adset", "af_adset"},
	{"Adset ID", "af_adset_id"},
	{"Ad", "af_ad"},
	{"Ad ID", "af_ad_id"},
	{"Ad Type", "af_ad_type"},
	{"Site ID", "af_siteid"},
	{"Sub Site ID", "af_sub_siteid"},
	{"Sub Param 1", "af_sub1"},
	{"Sub Param 2", "af_sub2"},
	{"Sub Param 3", "af_sub3"},
	{"Sub Param 4", "af_sub4"},
	{"Sub Param 5", "af_sub5"},
	{"Cost Model", "af_cost_model"},
	{"Cost Value", "af_cost_value"},
	{"Cost Currency", "af_cost_currency"},
	{"Contributor 1 Partner", "contributor_1_af_prt"},
	{"Contributor 1 Media Source", "contributor_1_media_source"},
	{"Contributor 1 Campaign", "contributor_1_campaign"},
	{"Contributor 1 Touch Type", "contributor_1_touch_type"},
	{"Contributor 1 Touch Time", "contributor_1_touch_time"},
	{"Contributor 2 Partner", "contributor_2_af_prt"},
	{"Contributor 2 Media Source", "contributor_2_media_source"},
	{"Contributor 2 Campaign", "contributor_2_campaign"},
	{"Contributor 2 Touch Type", "contributor_2_touch_type"},
	{"Contributor 2 Touch Time", "contributor_2_touch_time"},
	{"Contributor 3 Partner", "contributor_3_af_prt"},
	{"Contributor 3 Media Source", "contributor_3_media_source"},
	{"Contributor 3 Campaign", "contributor_3_campaign"},
	{"Contributor 3 Touch Type", "contributor_3_touch_type"},
	{"Contributor 3 Touch Time", "contributor_3_touch_time"},
	{"Region", "region"},
	{"Country Code", "country_code"},
	{"State", "state"},
	{"City", "city"},
	{"Postal Code", "postal_code"},
	{"DMA", "dma"},
	{"IP", "ip"},
	{"WIFI", "wifi"},
	{"Operator", "operator"},
	{"Carrier", "carrier"},
	{"Language", "language"},
	{"AppsFlyer ID", "appsflyer_id"},
	{"Advertising ID", "advertising_id"},
	{"IDFA", "idfa"},
	{"Android ID", "android_id"},
	{"Customer User ID", "customer_user_id"},
	{"IMEI", "imei"},
	{"IDFV", "idfv"},
	{"Platform", "platform"},
	{"Device Type", "device_type"},
	{"OS Version", "os_version"},
	{"App Version", "app_version"},
	{"SDK Version", "sdk_version"},
	{"App ID", "app_id"},
	{"App Name", "app_name"},
	{"Bundle ID", "bundle_id"},
	{"Is Retargeting", "is_retargeting"},
	{"Retargeting Conversion Type", "retargeting_conversion_type"},
	{"Attribution Lookback", "af_attribution_lookback"},
	{"Reengagement Window", "af_reengagement_window"},
	{"Is Primary Attribution", "is_primary_attribution"},
	{"User Agent", "user_agent"},
	{"HTTP Referrer", "http_referrer"},
	{"Original URL", "original_url"},
}

// additionalColumns are the additional_fields values in a stable order: the
// API name (what the query parameter takes), its CSV header, and the push
// field name raw_events uses.
var additionalColumns = []struct{ API, Header string }{
	{"app_type", "App Type"},
	{"custom_data", "Custom Data"},
	{"network_account_id", "Network Account ID"},
	{"install_app_store", "Install App Store"},
	{"contributor1_match_type", "Contributor 1 Match Type"},
	{"contributor2_match_type", "Contributor 2 Match Type"},
	{"contributor3_match_type", "Contributor 3 Match Type"},
	{"campaign_type", "Campaign Type"},
	{"conversion_type", "Conversion Type"},
	{"match_type", "Match Type"},
	{"gp_referrer", "Google Play Referrer"},
	{"gp_click_time", "Google Play Click Time"},
	{"gp_install_begin", "Google Play Install Begin Time"},
	{"gp_broadcast_referrer", "Google Play Broadcast Referrer"},
	{"keyword_match_type", "Keyword Match Type"},
	{"keyword_id", "Keyword ID"},
	{"att", "ATT"},
	{"amazon_aid", "Amazon Fire ID"},
	{"device_category", "Device Category"},
	{"device_model", "Device Model"},
	{"device_download_time", "Device Download Time"},
	{"deeplink_url", "Deeplink URL"},
	{"oaid", "OAID"},
	{"is_lat", "Is LAT"},
	{"store_reinstall", "Store Reinstall"},
	{"placement", "Placement"},
	{"mediation_network", "Mediation Network"},
	{"segment", "Segment"},
	{"ad_unit", "Ad Unit"},
	{"monetization_network", "Monetization Network"},
	{"impressions", "Impressions"},
	{"blocked_reason", "Blocked Reason"},
	{"blocked_reason_value", "Blocked Reason Value"},
	{"blocked_reason_rule", "Blocked Reason Rule"},
	{"blocked_sub_reason", "Blocked Sub Reason"},
	{"rejected_reason", "Rejected Reason"},
	{"rejected_reason_value", "Rejected Reason Value"},
	{"custom_dimension", "Custom Dimension"},
}

// AdditionalFields maps each additional_fields value to its CSV header.
var AdditionalFields = func() map[string]string {
	m := make(map[string]string, len(additionalColumns))
	for _, c := range additionalColumns {
		m[c.API] = c.Header
	}
	return m
}()

// AdditionalFieldNames lists the additional_fields values in a stable order
// (the order of AppsFlyer's documentation), e.g. for a poller that asks for
// all of them.
var AdditionalFieldNames = func() []string {
	s := make([]string, len(additionalColumns))
	for i, c := range additionalColumns {
		s[i] = c.API
	}
	return s
}()

// PushFieldName converts a Pull API field name to the Push API spelling:
// contributor1_match_type becomes contributor_1_match_type; other names are
// the same in both APIs.
func PushFieldName(apiName string) string {
	const p = "contributor"
	if len(apiName) > len(p)+1 && strings.HasPrefix(apiName, p) {
		if d := apiName[len(p)]; d >= '1' && d <= '9' && apiName[len(p)+1] == '_' {
			return p + "_" + apiName[len(p):]
		}
	}
	return apiName
}

// headerFields maps every known CSV header to its push field name.
var headerFields = func() map[string]string {
	m := make(map[string]string, len(DefaultColumns)+len(additionalColumns))
	for _, c := range DefaultColumns {
		m[c.Header] = c.Field
	}
	for _, c := range additionalColumns {
		m[c.Header] = PushFieldName(c.API)
	}
	return m
}()

// FieldForHeader returns the push field name of a CSV header. Unknown
// headers (AppsFlyer adds columns without notice) become snake_case:
// "New Thing (beta)" -> "new_thing_beta".
func FieldForHeader(header string) string {
	if f, ok := headerFields[header]; ok {
		return f
	}
	return snakeCase(header)
}

func snakeCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSep := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		default:
			pendingSep = b.Len() > 0
			continue
		}
		if pendingSep {
			b.WriteByte('_')
			pendingSep = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeFields are the CSV columns holding date-times, which a reader given a
// report time zone converts to UTC.
var timeFields = map[string]bool{
	"attributed_touch_time":    true,
	"install_time":             true,
	"event_time":               true,
	"contributor_1_touch_time": true,
	"contributor_2_touch_time": true,
	"contributor_3_touch_time": true,
	"device_download_time":     true,
	"gp_click_time":            true,
	"gp_install_begin":         true,
}
