package contract

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// query sends one QueryData call over gRPC and returns the response of
// refId A, converted back exactly as Grafana does.
func (h *harness) query(t *testing.T, headers map[string]string, model any, from, to time.Time) backend.DataResponse {
	t.Helper()
	js, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	req := &backend.QueryDataRequest{
		PluginContext: h.pluginContext(1, database),
		Headers:       headers,
		Queries: []backend.DataQuery{{
			RefID: "A", JSON: js, Interval: time.Minute, MaxDataPoints: 1000,
			TimeRange: backend.TimeRange{From: from, To: to},
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := h.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		t.Fatalf("QueryData over gRPC: %v", err)
	}
	out, err := backend.FromProto().QueryDataResponse(resp)
	if err != nil {
		t.Fatalf("decode QueryData response: %v", err)
	}
	r, ok := out.Responses["A"]
	if !ok {
		t.Fatalf("no response for refId A")
	}
	return r
}

// ok fails the test on an error response and returns its frames.
func ok(t *testing.T, r backend.DataResponse) data.Frames {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("query failed (status %d): %v", r.Status, r.Error)
	}
	return r.Frames
}

// seriesByDisplay maps a wide frame's value fields by display name.
func seriesByDisplay(t *testing.T, f *data.Frame) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	for _, fld := range f.Fields[1:] {
		vals := make([]int64, fld.Len())
		for i := range vals {
			v, ok := fld.ConcreteAt(i)
			if !ok {
				t.Fatalf("field %s row %d is null", fld.Name, i)
			}
			vals[i] = v.(int64)
		}
		out[fld.Config.DisplayNameFromDS] = vals
	}
	return out
}

// numericColumns counts the numeric fields of a frame.
func numericColumns(f *data.Frame) int {
	n := 0
	for _, fld := range f.Fields {
		if fld.Type().Numeric() {
			n++
		}
	}
	return n
}
