package metricdoc

// This file is the one place that says what a window stores and what a
// measure means. The plugin's request parser, MongoDB pipeline, live
// follower, frames and resources iterate MeasureTable, and the frontend's
// list is checked against it by a test that reads this table.

// Summed fields of metric documents (live, hourly, daily) and of Updates.
const (
	FieldEvents     = "events"
	FieldRevenue    = "revenue_micros"
	FieldRevenueUSD = "revenue_usd_micros"
)

// Totals are the sums of one window. Money is kept in millionths of the
// currency unit so that sums are exact integers.
type Totals struct {
	Events           int64 `bson:"events" json:"events"`
	RevenueMicros    int64 `bson:"revenue_micros" json:"revenue_micros"`
	RevenueUSDMicros int64 `bson:"revenue_usd_micros" json:"revenue_usd_micros"`
}

// Add accumulates o into t.
func (t *Totals) Add(o Totals) {
	t.Events += o.Events
	t.RevenueMicros += o.RevenueMicros
	t.RevenueUSDMicros += o.RevenueUSDMicros
}

// StoredField is one sum of Totals: its document field and its value.
type StoredField struct {
	Name  string
	Value func(Totals) int64
}

// StoredFields lists every field of Totals in document order; writers of
// live documents set each of them.
var StoredFields = []StoredField{
	{FieldEvents, func(t Totals) int64 { return t.Events }},
	{FieldRevenue, func(t Totals) int64 { return t.RevenueMicros }},
	{FieldRevenueUSD, func(t Totals) int64 { return t.RevenueUSDMicros }},
}

// EventFilter selects the windows a measure sums by one dimension: those
// whose Dim equals Value, or, with Exclude, those whose Dim differs from it.
// A zero EventFilter selects every window.
type EventFilter struct {
	Dim     string
	Value   string
	Exclude bool
}

// Accepts reports whether a window with dimensions m is summed.
func (f EventFilter) Accepts(m *Meta) bool {
	if f.Dim == "" {
		return true
	}
	return (m.Get(f.Dim) == f.Value) != f.Exclude
}

// MeasureSpec is one measure of a metrics query.
type MeasureSpec struct {
	Name Measure
	// Title names an ungrouped series (the legend) and the editor option.
	Title string
	// Unit is the Grafana unit of the values; ignored when SplitBy is
	// DimCurrency (each group is in its own currency).
	Unit string
	// Field is the stored field summed (one of StoredFields).
	Field string
	// Micros: the field holds millionths; values are shown in units.
	Micros bool
	// Filter selects the windows summed.
	Filter EventFilter
	// SplitBy is a dimension the measure is never summed across: queries
	// are always grouped by it (revenue by currency).
	SplitBy string
}

// Value is the measure's stored field in t.
func (s MeasureSpec) Value(t Totals) int64 {
	for _, f := range StoredFields {
		if f.Name == s.Field {
			return f.Value(t)
		}
	}
	return 0
}

// MeasureTable lists every measure of a metrics query; the first is the
// default.
var MeasureTable = []MeasureSpec{
	{Name: MeasureInstalls, Title: "Installs", Unit: "short", Field: FieldEvents,
		Filter: EventFilter{Dim: DimEventName, Value: InstallEventName}},
	{Name: MeasureEvents, Title: "In-app events", Unit: "short", Field: FieldEvents,
		Filter: EventFilter{Dim: DimEventName, Value: InstallEventName, Exclude: true}},
	{Name: MeasureRevenue, Title: "Revenue", Field: FieldRevenue, Micros: true,
		Filter: EventFilter{Dim: DimCurrency, Value: "", Exclude: true}, SplitBy: DimCurrency},
	{Name: MeasureRevenueUSD, Title: "Revenue (USD)", Unit: "currencyUSD", Field: FieldRevenueUSD, Micros: true},
}

// LookupMeasure returns the table entry of m.
func LookupMeasure(m Measure) (MeasureSpec, bool) {
	for _, s := range MeasureTable {
		if s.Name == m {
			return s, true
		}
	}
	return MeasureSpec{}, false
}

// MeasureNames lists the measures in table order.
func MeasureNames() []Measure {
	out := make([]Measure, len(MeasureTable))
	for i, s := range MeasureTable {
		out[i] = s.Name
	}
	return out
}
