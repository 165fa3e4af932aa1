package appsflyer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RowReader reads a raw-data CSV report and turns each row into a raw_events
// JSON object with Push API field names and string values, so the aggregator
// parses pulled and pushed events the same way.
//
// It is tolerant where AppsFlyer is sloppy: a UTF-8 BOM, unknown columns
// (kept under their snake_case header), empty and sentinel cells ("null",
// "NULL", "N/A", "None", omitted like push omits blank keys). A ragged row or
// a row with broken quoting is a *RowError: the caller may count it and call
// Next again.
type RowReader struct {
	cr     *csv.Reader
	fields []string // push field name per column
	loc    *time.Location
	line   int
	buf    []byte
}

// Required headers: without them a row cannot become a valid event, so a
// body without them is not a raw-data report (e.g. an HTML error page).
var requiredHeaders = []string{"Event Time", "Event Name", "AppsFlyer ID", "App ID"}

// NewRowReader reads and validates the header line. An empty report is a
// header with no rows; an empty body or a header missing a required column
// is an error wrapping ErrBadHeader.
func NewRowReader(r io.Reader) (*RowReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("read report header: %w: empty body", ErrBadHeader)
	}
	if err != nil {
		return nil, fmt.Errorf("read report header: %w: %w", ErrBadHeader, err)
	}
	rr := &RowReader{cr: cr, fields: make([]string, len(header)), line: 1}
	seen := make(map[string]bool, len(header))
	headers := make(map[string]bool, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		headers[h] = true
		f := FieldForHeader(h)
		if f == "" {
			f = "column_" + strconv.Itoa(i+1)
		}
		for base, n := f, 2; seen[f]; n++ {
			f = base + "_" + strconv.Itoa(n)
		}
		seen[f] = true
		rr.fields[i] = f
	}
	var missing []string
	for _, h := range requiredHeaders {
		if !headers[h] {
			missing = append(missing, strconv.Quote(h))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("read report header: %w: missing %s", ErrBadHeader, strings.Join(missing, ", "))
	}
	return rr, nil
}

// SetLocation tells the reader the report was requested with this timezone
// parameter, so its date-time cells are local times; the reader converts
// them to UTC because raw_events times without an offset mean UTC. nil or
// UTC leaves cells unchanged.
func (r *RowReader) SetLocation(loc *time.Location) {
	if loc == time.UTC {
		loc = nil
	}
	r.loc = loc
}

// Fields returns the push field name of each column, in column order.
func (r *RowReader) Fields() []string { return r.fields }

// Line returns the line (1-based, the header is line 1) where the last row
// returned by Next, or the last *RowError, started.
func (r *RowReader) Line() int { return r.line }

// Next returns the next row as a JSON object. The slice is valid until the
// next call. It returns io.EOF at the end, a *RowError for a bad row (the
// reader can continue), and any other error for a failed read.
func (r *RowReader) Next() ([]byte, error) {
	rec, err := r.cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			r.line = pe.StartLine
			return nil, &RowError{Line: pe.StartLine, Err: pe.Err}
		}
		return nil, fmt.Errorf("read report row after line %d: %w", r.line, err)
	}
	r.line, _ = r.cr.FieldPos(0)
	if len(rec) != len(r.fields) {
		return nil, &RowError{Line: r.line, Err: fmt.Errorf("%w: %d cells, header has %d", ErrRaggedRow, len(rec), len(r.fields))}
	}
	b := append(r.buf[:0], '{')
	for i, v := range rec {
		if isSentinel(v) {
			continue
		}
		f := r.fields[i]
		if r.loc != nil && timeFields[f] {
			v = toUTC(v, r.loc)
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	b = append(b, '}')
	r.buf = b
	return b, nil
}

// isSentinel reports the cells AppsFlyer uses for "no value".
func isSentinel(v string) bool {
	switch v {
	case "", "null", "NULL", "N/A", "None":
		return true
	}
	return false
}

func toUTC(v string, loc *time.Location) string {
	t, err := time.ParseInLocation(CSVTimeLayout, v, loc)
	if err != nil {
		return v
	}
	return t.UTC().Format(CSVTimeLayout)
}

// appendJSONString appends s as a JSON string. Bytes that are not valid
// UTF-8 are copied as they are, not replaced by U+FFFD: event.Parse then
// rejects the event (bad_encoding) and the dead-letter record keeps the
// original bytes, instead of an app id with U+FFFD in it being counted.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
