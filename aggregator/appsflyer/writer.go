package appsflyer

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// RowWriter writes a raw-data CSV report the way AppsFlyer does: the default
// header (plus requested additional fields), RFC 4180 quoting, literal
// "null" for a missing Event Value, date-times without milliseconds. It is
// the simulator's half of RowReader.
type RowWriter struct {
	cw        *csv.Writer
	header    []string
	fields    []string
	rec       []string
	loc       *time.Location
	wroteHead bool
	err       error
}

// NewRowWriter returns a writer of the default columns followed by the
// additional_fields values in the order given. An unknown additional field
// gets its name as header.
func NewRowWriter(w io.Writer, additional []string) *RowWriter {
	rw := &RowWriter{cw: csv.NewWriter(w)}
	for _, c := range DefaultColumns {
		rw.header = append(rw.header, c.Header)
		rw.fields = append(rw.fields, c.Field)
	}
	for _, a := range additional {
		h, ok := AdditionalFields[a]
		if !ok {
			h = a
		}
		rw.header = append(rw.header, h)
		rw.fields = append(rw.fields, PushFieldName(a))
	}
	rw.rec = make([]string, len(rw.fields))
	return rw
}

// SetLocation makes the writer render date-time cells in loc, as AppsFlyer
// does for a request with a timezone parameter. Input values are UTC.
func (w *RowWriter) SetLocation(loc *time.Location) {
	if loc == time.UTC {
		loc = nil
	}
	w.loc = loc
}

// Header returns the CSV header the writer writes.
func (w *RowWriter) Header() []string { return w.header }

// Write writes one row from push field names to values. Missing keys are
// empty cells. Date-time values may be in push format (milliseconds are
// dropped).
func (w *RowWriter) Write(fields map[string]string) error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	for i, f := range w.fields {
		w.rec[i] = w.cell(f, fields[f])
	}
	if err := w.cw.Write(w.rec); err != nil {
		w.err = fmt.Errorf("write report row: %w", err)
	}
	return w.err
}

// Flush writes the header if no row was written (an empty report is the
// header line only) and flushes buffered rows.
func (w *RowWriter) Flush() error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	w.cw.Flush()
	if err := w.cw.Error(); err != nil && w.err == nil {
		w.err = fmt.Errorf("flush report: %w", err)
	}
	return w.err
}

func (w *RowWriter) writeHeader() error {
	if w.err != nil || w.wroteHead {
		return w.err
	}
	w.wroteHead = true
	if err := w.cw.Write(w.header); err != nil {
		w.err = fmt.Errorf("write report header: %w", err)
	}
	return w.err
}

func (w *RowWriter) cell(field, v string) string {
	switch {
	case field == "event_value" && (v == "" || v == "{}"):
		return "null"
	case timeFields[field] && len(v) >= len(CSVTimeLayout):
		t, err := time.Parse(CSVTimeLayout, v[:len(CSVTimeLayout)])
		if err != nil {
			return v
		}
		if w.loc != nil {
			t = t.In(w.loc)
		}
		return t.Format(CSVTimeLayout)
	}
	return v
}
