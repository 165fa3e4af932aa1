// Package localapi serves the datasource over plain HTTP the way Grafana
// reaches it, for the all-in-one mode (`make run`) where no Grafana runs:
// POST /api/query takes a query model (plus from/to) and answers with the
// data frames as JSON, GET /api/resources/... forwards to CallResource.
package localapi

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

// maxQueryBytes bounds a POST /api/query body.
const maxQueryBytes = 1 << 20

// Handler serves /api/query and /api/resources/ from ds, and, when metrics
// is not nil, /metrics from it.
func Handler(ds *plugin.Datasource, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("POST /api/query", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxQueryBytes))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		from, to := time.Now().Add(-24*time.Hour), time.Now()
		if v := r.URL.Query().Get("from"); v != "" {
			if from, err = time.Parse(time.RFC3339, v); err != nil {
				http.Error(w, "from: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if v := r.URL.Query().Get("to"); v != "" {
			if to, err = time.Parse(time.RFC3339, v); err != nil {
				http.Error(w, "to: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		resp, err := ds.QueryData(r.Context(), QueryRequest(body, from, to))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET /api/resources/{path...}", func(w http.ResponseWriter, r *http.Request) {
		req := &backend.CallResourceRequest{
			PluginContext: pluginContext(),
			Path:          r.PathValue("path"),
			Method:        r.Method,
			URL:           r.PathValue("path") + "?" + r.URL.RawQuery,
		}
		err := ds.CallResource(r.Context(), req, backend.CallResourceResponseSenderFunc(func(res *backend.CallResourceResponse) error {
			for k, vs := range res.Headers {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			w.WriteHeader(res.Status)
			_, err := w.Write(res.Body)
			return err
		}))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	return mux
}

func pluginContext() backend.PluginContext {
	s := plugin.InstanceSettings(plugin.Settings{}, nil)
	return backend.PluginContext{PluginID: plugin.PluginID, DataSourceInstanceSettings: &s}
}

// QueryRequest is the request Grafana would send for one query model (refId
// A) over [from, to).
func QueryRequest(query []byte, from, to time.Time) *backend.QueryDataRequest {
	return &backend.QueryDataRequest{
		PluginContext: pluginContext(),
		Queries: []backend.DataQuery{{
			RefID: "A", JSON: query, TimeRange: backend.TimeRange{From: from, To: to},
			Interval: time.Hour, MaxDataPoints: 1000,
		}},
	}
}
