package push

import (
	"fmt"
	"net/url"

	"github.com/campaignpulse/campaignpulse/aggregator/appsflyer"
)

// formToJSON converts a GET postback's query string into the raw_events JSON
// object (string values, as AppsFlyer sends them).
func formToJSON(rawQuery string) ([]byte, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("bad query string: %w", err)
	}
	if len(q) == 0 {
		return nil, fmt.Errorf("empty query string")
	}
	return appsflyer.PushQueryToJSON(q), nil
}
