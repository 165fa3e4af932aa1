package event

// JSON field names (AppsFlyer Push API names) that the pipeline reads.
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

// Platforms AppsFlyer reports for mobile apps.
var platforms = map[string]string{
	"ios":          "ios",
	"android":      "android",
	"windowsphone": "windowsphone",
	"iOS":          "ios",
	"Android":      "android",
}
