package frames

import (
	"strconv"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
	"github.com/campaignpulse/campaignpulse/aggregator/storeusage"
)

// LagRow is the lag of one partition.
type LagRow struct {
	Topic     string
	Partition int32
	Records   int64
	// Seconds is the age of the oldest unconsumed record; nil when it could
	// not be read (the record was not fetched in time).
	Seconds *float64
}

// Lag is a numeric-long table: topic and partition as labels, and
// lag_records and/or lag_seconds. Naming a measure yields exactly one
// numeric column, which alert rules accept as is.
func Lag(rows []LagRow, m metricdoc.Measure) *data.Frame {
	topics := make([]string, len(rows))
	parts := make([]string, len(rows))
	recs := make([]int64, len(rows))
	secs := make([]*float64, len(rows))
	for i, r := range rows {
		topics[i], parts[i], recs[i], secs[i] = r.Topic, strconv.Itoa(int(r.Partition)), r.Records, r.Seconds
	}
	fields := []*data.Field{data.NewField("topic", nil, topics), data.NewField("partition", nil, parts)}
	if m == "" || m == metricdoc.MeasureLagRecords {
		f := data.NewField(string(metricdoc.MeasureLagRecords), nil, recs)
		f.Config = &data.FieldConfig{DisplayNameFromDS: "Lag (records)", Unit: "short"}
		fields = append(fields, f)
	}
	if m == "" || m == metricdoc.MeasureLagSeconds {
		f := data.NewField(string(metricdoc.MeasureLagSeconds), nil, secs)
		f.Config = &data.FieldConfig{DisplayNameFromDS: "Lag (seconds)", Unit: "s"}
		fields = append(fields, f)
	}
	return numericLong("lag", fields)
}

// FreshnessRow is the age of the newest event of one app and source.
type FreshnessRow struct {
	AppID, Source string
	Seconds       float64
}

// Freshness is a numeric-long table with app_id and source as labels and
// one numeric column, age_seconds.
func Freshness(rows []FreshnessRow) *data.Frame {
	apps := make([]string, len(rows))
	sources := make([]string, len(rows))
	ages := make([]float64, len(rows))
	for i, r := range rows {
		apps[i], sources[i], ages[i] = r.AppID, r.Source, r.Seconds
	}
	age := data.NewField("age_seconds", nil, ages)
	age.Config = &data.FieldConfig{DisplayNameFromDS: "Age of newest event", Unit: "s"}
	return numericLong("freshness", []*data.Field{
		data.NewField(metricdoc.DimApp, nil, apps), data.NewField("source", nil, sources), age,
	})
}

// Storage is a numeric-long table with one row per collection: name,
// type and expiry as labels; documents, data/storage/index bytes and the
// server's expireAfterSeconds (null where the server does not expire it).
func Storage(rows []storeusage.Collection) *data.Frame {
	n := len(rows)
	names, types, expiry := make([]string, n), make([]string, n), make([]string, n)
	docs, dataB, storB, idxB := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	ttl := make([]*int64, n)
	for i, r := range rows {
		names[i], types[i], expiry[i] = r.Name, r.Type, string(r.Expiry)
		docs[i], dataB[i], storB[i], idxB[i], ttl[i] = r.Documents, r.DataBytes, r.StorageBytes, r.IndexBytes, r.ExpireAfterSeconds
	}
	field := func(name string, values any, display, unit string) *data.Field {
		f := data.NewField(name, nil, values)
		f.Config = &data.FieldConfig{DisplayNameFromDS: display, Unit: unit}
		return f
	}
	return numericLong("storage", []*data.Field{
		data.NewField("collection", nil, names),
		data.NewField("type", nil, types),
		data.NewField("expiry", nil, expiry),
		field("documents", docs, "Documents", "short"),
		field("data_bytes", dataB, "Data", "bytes"),
		field("storage_bytes", storB, "On disk", "bytes"),
		field("index_bytes", idxB, "Indexes", "bytes"),
		field("expire_after_seconds", ttl, "Expire after", "s"),
	})
}

// Variables is the text/value frame Grafana reads for query variables.
func Variables(values []string) *data.Frame {
	return data.NewFrame("variables", data.NewField("text", nil, values), data.NewField("value", nil, values))
}

func numericLong(name string, fields []*data.Field) *data.Frame {
	f := data.NewFrame(name, fields...)
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return f
}
