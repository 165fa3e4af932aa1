package pipeline

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/campaignpulse/campaignpulse/aggregator/metricdoc"
)

// Row is one output document of a pipeline: a window (zero for table
// queries), the group-by values in query order, and the summed measure.
type Row struct {
	Window time.Time
	Group  []string
	Value  int64
}

// DecodeRow reads one pipeline output document.
func DecodeRow(doc bson.Raw, groupBy []string, timed bool) (Row, error) {
	id, ok := doc.Lookup(metricdoc.FieldID).DocumentOK()
	if !ok {
		return Row{}, fmt.Errorf("decode aggregation row: _id is not a document")
	}
	var r Row
	if timed {
		dt, ok := id.Lookup(metricdoc.FieldWindowStart).DateTimeOK()
		if !ok {
			return Row{}, fmt.Errorf("decode aggregation row: %s is not a date", metricdoc.FieldWindowStart)
		}
		r.Window = time.UnixMilli(dt).UTC()
	}
	if len(groupBy) > 0 {
		r.Group = make([]string, len(groupBy))
		for i, dim := range groupBy {
			// A dimension missing from old documents groups as "".
			r.Group[i], _ = id.Lookup(dim).StringValueOK()
		}
	}
	v := doc.Lookup(OutValue)
	switch v.Type {
	case bson.TypeInt64:
		r.Value = v.Int64()
	case bson.TypeInt32:
		r.Value = int64(v.Int32())
	case bson.TypeDouble:
		r.Value = int64(v.Double())
	default:
		return Row{}, fmt.Errorf("decode aggregation row: %s has BSON type %s", OutValue, v.Type)
	}
	return r, nil
}
