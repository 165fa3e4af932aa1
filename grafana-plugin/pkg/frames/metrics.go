package frames

import (
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/pipeline"
)

// Spec says how to shape a metrics result.
type Spec struct {
	RefID      string
	Measure    metricdoc.Measure
	GroupBy    []string
	TopN       int
	Cumulative bool
	Format     metricdoc.Format
}

// Metrics shapes pipeline rows into the frame the query's format asks for.
// windows are the plan's window starts; they become the time column, with
// zero where no row exists.
func Metrics(spec Spec, windows []time.Time, rows []pipeline.Row) data.Frames {
	timed := spec.Format != metricdoc.FormatTable
	all := topN(collect(windows, rows, timed, spec.GroupBy), spec.TopN, len(spec.GroupBy))
	if spec.Cumulative && timed {
		cumulate(all)
	}
	var f *data.Frame
	switch spec.Format {
	case metricdoc.FormatTable:
		f = table(spec, all)
	case metricdoc.FormatTimeSeriesLong:
		f = long(spec, windows, all)
	default:
		f = wide(spec, windows, all)
	}
	f.RefID = spec.RefID
	return data.Frames{f}
}

func wide(spec Spec, windows []time.Time, all []*series) *data.Frame {
	fields := make([]*data.Field, 0, len(all)+1)
	fields = append(fields, data.NewField("time", nil, windows))
	for _, s := range all {
		var labels data.Labels
		if len(spec.GroupBy) > 0 {
			labels = make(data.Labels, len(spec.GroupBy))
			for i, dim := range spec.GroupBy {
				labels[dim] = s.group[i]
			}
		}
		f := valueField(spec.Measure, labels, s.values)
		f.Config = &data.FieldConfig{DisplayNameFromDS: displayName(spec.Measure, s.group), Unit: unit(spec, s.group)}
		fields = append(fields, f)
	}
	fr := data.NewFrame(string(spec.Measure), fields...)
	fr.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesWide, TypeVersion: data.FrameTypeVersion{0, 1}}
	return fr
}

func long(spec Spec, windows []time.Time, all []*series) *data.Frame {
	n := len(windows) * len(all)
	times := make([]time.Time, 0, n)
	dims := make([][]string, len(spec.GroupBy))
	for i := range dims {
		dims[i] = make([]string, 0, n)
	}
	values := make([]int64, 0, n)
	for w, t := range windows {
		for _, s := range all {
			times = append(times, t)
			for i := range dims {
				dims[i] = append(dims[i], s.group[i])
			}
			values = append(values, s.values[w])
		}
	}
	fields := []*data.Field{data.NewField("time", nil, times)}
	for i, dim := range spec.GroupBy {
		fields = append(fields, data.NewField(dim, nil, dims[i]))
	}
	v := valueField(spec.Measure, nil, values)
	v.Config = &data.FieldConfig{Unit: commonUnit(spec, all)}
	fields = append(fields, v)
	fr := data.NewFrame(string(spec.Measure), fields...)
	fr.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return fr
}

// table has one row per group with the range total: string columns for the
// group-by dimensions and one numeric column, as alerting wants.
func table(spec Spec, all []*series) *data.Frame {
	fields := make([]*data.Field, 0, len(spec.GroupBy)+1)
	for i, dim := range spec.GroupBy {
		col := make([]string, len(all))
		for r, s := range all {
			col[r] = s.group[i]
		}
		fields = append(fields, data.NewField(dim, nil, col))
	}
	totals := make([]int64, len(all))
	for r, s := range all {
		totals[r] = s.total
	}
	v := valueField(spec.Measure, nil, totals)
	v.Config = &data.FieldConfig{DisplayNameFromDS: displayName(spec.Measure, nil), Unit: commonUnit(spec, all)}
	fields = append(fields, v)
	fr := data.NewFrame(string(spec.Measure), fields...)
	fr.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return fr
}

// valueField keeps counts as integers and turns money from micros into
// currency units.
func valueField(m metricdoc.Measure, labels data.Labels, v []int64) *data.Field {
	if spec, _ := metricdoc.LookupMeasure(m); !spec.Micros {
		return data.NewField(string(m), labels, v)
	}
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x) / 1e6
	}
	return data.NewField(string(m), labels, f)
}

// displayName is the legend: the group values, or the measure's title when
// the query is not grouped.
func displayName(m metricdoc.Measure, group []string) string {
	if len(group) == 0 {
		spec, _ := metricdoc.LookupMeasure(m)
		return spec.Title
	}
	parts := make([]string, len(group))
	for i, g := range group {
		if g == "" {
			g = "(none)"
		}
		parts[i] = g
	}
	return strings.Join(parts, " / ")
}

// grafanaCurrencies are the currency units Grafana has built in.
var grafanaCurrencies = map[string]bool{
	"USD": true, "GBP": true, "EUR": true, "JPY": true, "RUB": true, "UAH": true, "BRL": true,
	"DKK": true, "ISK": true, "NOK": true, "SEK": true, "CZK": true, "CHF": true, "PLN": true,
	"ZAR": true, "INR": true, "KRW": true, "IDR": true, "PHP": true, "VND": true,
}

func unit(spec Spec, group []string) string {
	m, _ := metricdoc.LookupMeasure(spec.Measure)
	if m.SplitBy != metricdoc.DimCurrency {
		return m.Unit
	}
	for i, dim := range spec.GroupBy {
		if dim == metricdoc.DimCurrency && i < len(group) {
			return currencyUnit(group[i])
		}
	}
	return ""
}

func currencyUnit(code string) string {
	if grafanaCurrencies[code] {
		return "currency" + code
	}
	if code == "" || code == Other {
		return ""
	}
	return "suffix: " + code
}

// commonUnit is the unit of a column shared by every series: revenue in
// several currencies gets none.
func commonUnit(spec Spec, all []*series) string {
	u := ""
	for i, s := range all {
		su := unit(spec, s.group)
		if i > 0 && su != u {
			return ""
		}
		u = su
	}
	if len(all) == 0 {
		return unit(spec, nil)
	}
	return u
}
