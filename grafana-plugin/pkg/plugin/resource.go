package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/request"
)

// Resource paths served by CallResource.
const (
	// ResourceVariables: GET /variables?dimension=campaign[&app_id=x...][&from=&to=]
	// returns [{"text":..., "value":...}] of the dimension's distinct values,
	// filtered by any other dimension given as a parameter (repeatable) and
	// by the range (epoch milliseconds or RFC 3339) when from and to are set.
	ResourceVariables = "variables"
	// ResourceOptions: GET /options returns the query types, measures and
	// dimensions the editor offers, straight from metricdoc.
	ResourceOptions = "options"
)

// CallResource serves the editor's lookups.
func (ds *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	return ds.resource.CallResource(ctx, req, sender)
}

func newResourceHandler(ds *Datasource) backend.CallResourceHandler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+ResourceVariables, ds.handleVariables)
	mux.HandleFunc("GET /"+ResourceOptions, handleOptions)
	return httpadapter.New(mux)
}

type variableValue struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

func (ds *Datasource) handleVariables(w http.ResponseWriter, r *http.Request) {
	q, err := variablesRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	values, err := ds.distinct(r.Context(), q)
	if err != nil {
		ds.log.Warn("variables resource", "err", err)
		writeError(w, http.StatusBadGateway, err)
		return
	}
	out := make([]variableValue, len(values))
	for i, v := range values {
		out[i] = variableValue{Text: v, Value: v}
	}
	writeJSON(w, http.StatusOK, out)
}

// variablesRequest turns the URL parameters into a variables query and runs
// it through the same validation as QueryData.
func variablesRequest(r *http.Request) (request.Query, error) {
	params := r.URL.Query()
	body := map[string]any{"queryType": metricdoc.QueryVariables, "dimension": params.Get("dimension")}
	filters := map[string][]string{}
	var tr backend.TimeRange
	for key, vals := range params {
		switch key {
		case "dimension":
		case "from", "to":
			t, err := parseTime(vals[0])
			if err != nil {
				return request.Query{}, request.Errorf("parameter %s: %v", key, err)
			}
			if key == "from" {
				tr.From = t
			} else {
				tr.To = t
			}
		default:
			filters[key] = vals
		}
	}
	if len(filters) > 0 {
		body["filters"] = filters
	}
	js, err := json.Marshal(body)
	if err != nil {
		return request.Query{}, err
	}
	return request.Parse(backend.DataQuery{RefID: "resource", JSON: js, TimeRange: tr}, request.Defaults{})
}

func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Parse(time.RFC3339, s)
}

func handleOptions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"queryTypes":    metricdoc.QueryTypes,
		"dimensions":    metricdoc.Dimensions,
		"measures":      metricdoc.MeasureNames(),
		"lagMeasures":   []metricdoc.Measure{metricdoc.MeasureLagRecords, metricdoc.MeasureLagSeconds},
		"granularities": []string{metricdoc.GranularityAuto, string(metricdoc.Hour), string(metricdoc.Day)},
		"formats":       []metricdoc.Format{metricdoc.FormatTimeSeries, metricdoc.FormatTimeSeriesLong, metricdoc.FormatTable},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
