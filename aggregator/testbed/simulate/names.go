package simulate

// Name tables for synthetic data. Values follow the shapes of real AppsFlyer
// exports (reference sheet §1.6 and §3.3).

// sourceSpec describes a media source: its share of installs, channels and
// whether it carries attribution fields.
type sourceSpec struct {
	Name       string
	Weight     float64
	Channels   []string
	Attributed bool // false for organic and restricted: attribution fields blank
	IOSOnly    bool
	TouchTypes []string
	MatchType  string
}

var sourceSpecs = []sourceSpec{
	{Name: "organic", Weight: 30},
	{Name: "Facebook Ads", Weight: 22, Channels: []string{"Facebook", "Instagram", "Audience Network"}, Attributed: true, TouchTypes: []string{"click", "impression"}, MatchType: "srn"},
	{Name: "googleadwords_int", Weight: 18, Channels: []string{"ACI_Search", "ACI_Youtube", "ACI_Display"}, Attributed: true, TouchTypes: []string{"click", "impression"}, MatchType: "srn"},
	{Name: "tiktokglobal_int", Weight: 10, Channels: []string{"TikTok", "Pangle"}, Attributed: true, TouchTypes: []string{"click", "impression"}, MatchType: "id_matching"},
	{Name: "apple_search_ads", Weight: 8, Channels: []string{"Search"}, Attributed: true, IOSOnly: true, TouchTypes: []string{"click"}, MatchType: "srn"},
	{Name: "restricted", Weight: 12},
}

// OrganicSource and RestrictedSource are the media sources without
// attribution fields.
const (
	OrganicSource    = "organic"
	RestrictedSource = "restricted"
)

type country struct{ Code, Region, City, Language, Currency string }

var countries = []country{
	{"US", "NA", "New York", "English", "USD"},
	{"US", "NA", "Los Angeles", "English", "USD"},
	{"UK", "EU", "London", "English", "GBP"},
	{"DE", "EU", "Berlin", "Deutsch", "EUR"},
	{"FR", "EU", "Paris", "Français", "EUR"},
	{"BR", "SA", "São Paulo", "Português", "BRL"},
	{"IN", "AS", "Mumbai", "English", "INR"},
	{"JP", "AS", "Tokyo", "日本語", "JPY"},
	{"CA", "NA", "Toronto", "English", "CAD"},
	{"AU", "OC", "Sydney", "English", "AUD"},
}

// usdRate converts one unit of a currency to USD (fixed, so revenue in USD
// is deterministic).
var usdRate = map[string]float64{
	"USD": 1, "EUR": 1.08, "GBP": 1.27, "BRL": 0.2, "INR": 0.012, "JPY": 0.0067, "CAD": 0.73, "AUD": 0.66,
}

var appCurrencies = []string{"USD", "USD", "EUR", "GBP", "JPY"}

var prices = []float64{0.99, 1.99, 4.99, 9.99, 19.99, 49.99, 99.99}

// inAppEvent is a kind of in-app event with its share of in-app traffic.
type inAppEvent struct {
	Name    string
	Weight  float64
	Revenue bool
}

var inAppEvents = []inAppEvent{
	{"af_level_achieved", 30, false},
	{"af_complete_registration", 15, false},
	{"af_login", 15, false},
	{"af_content_view", 12, false},
	{"af_add_to_cart", 10, false},
	{"af_purchase", 13, true},
	{"af_start_trial", 5, false},
}

var iosDevices = []string{"iPhone14,5", "iPhone15,2", "iPhoneXR", "iPhone13,1", "iPad13,4"}
var androidDevices = []string{"samsung-SM-G920F", "samsung-SM-S911B", "xiaomi-Redmi Note 8T", "Google-Pixel 7", "OnePlus-CPH2449"}
var carriers = []string{"Vodafone", "T-Mobile", "AT&T", "Orange", "Verizon", "Jio", "NTT Docomo"}

var appWords = []string{"puzzle", "merge", "tiles", "quest", "farm", "blast", "runner", "chess", "word", "cook", "fit", "bank", "shop", "news", "learn"}
var campaignThemes = []string{"BF", "XMAS", "Evergreen", "Retarget", "Launch", "Summer", "Q4", "Broad", "LAL1", "Playables"}
