package event

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Parse decodes one raw event into e, validating what the aggregator needs.
// Unknown fields are skipped; values may be JSON strings (as real pushes
// send them), numbers, booleans or null. Input that is not valid UTF-8 is
// rejected as a whole (bad_encoding). A revenue in USD without
// event_revenue_usd counts as its own USD value. The error is an *Error with
// the rejection reason.
func Parse(b []byte, e *Event) error {
	*e = Event{}
	if !utf8.Valid(b) {
		return &Error{Reason: ReasonBadEncoding, Detail: "not valid UTF-8 at byte " + strconv.Itoa(invalidUTF8At(b))}
	}
	var (
		eventTime, revenue, revenueUSD, currency, platform []byte
		seenTime                                           bool
	)
	p := scanner{b: b}
	p.ws()
	if !p.eat('{') {
		return &Error{Reason: ReasonBadJSON, Detail: "not a JSON object"}
	}
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			key, ok := p.str()
			if !ok {
				return &Error{Reason: ReasonBadJSON, Detail: "bad key at byte " + strconv.Itoa(p.i)}
			}
			p.ws()
			if !p.eat(':') {
				return &Error{Reason: ReasonBadJSON, Detail: "missing ':' at byte " + strconv.Itoa(p.i)}
			}
			p.ws()
			f := fieldOf(key)
			if f == "" {
				// Most of a push is fields the aggregator does not use:
				// step over them without unescaping anything.
				if !p.skipValue() {
					return &Error{Reason: ReasonBadJSON, Detail: "bad value of " + strconv.Quote(clip(key)) + " at byte " + strconv.Itoa(p.i)}
				}
			} else {
				val, scalar, ok := p.value()
				if !ok {
					return &Error{Reason: ReasonBadJSON, Detail: "bad value of " + strconv.Quote(clip(key)) + " at byte " + strconv.Itoa(p.i)}
				}
				if !scalar {
					return &Error{Reason: ReasonBadJSON, Field: f, Detail: "object or array where a scalar is expected"}
				}
				if len(val) > MaxFieldBytes {
					return &Error{Reason: ReasonFieldTooLarge, Field: f}
				}
				switch f {
				case FieldAppID:
					e.AppID = string(val)
				case FieldAppsFlyerID:
					e.AppsFlyerID = string(val)
				case FieldEventName:
					e.EventName = string(val)
				case FieldEventTime:
					eventTime, seenTime = val, true
				case FieldMediaSource:
					e.MediaSource = string(val)
				case FieldCampaign:
					e.Campaign = string(val)
				case FieldPlatform:
					platform = val
				case FieldRevenue:
					revenue = val
				case FieldRevenueUSD:
					revenueUSD = val
				case FieldRevenueCurrency:
					currency = val
				}
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return &Error{Reason: ReasonBadJSON, Detail: "expected ',' or '}' at byte " + strconv.Itoa(p.i)}
		}
	}
	p.ws()
	if p.i != len(b) {
		return &Error{Reason: ReasonBadJSON, Detail: "trailing data after the object"}
	}

	switch {
	case e.AppID == "":
		return &Error{Reason: ReasonMissingField, Field: FieldAppID}
	case e.AppsFlyerID == "":
		return &Error{Reason: ReasonMissingField, Field: FieldAppsFlyerID}
	case e.EventName == "":
		return &Error{Reason: ReasonMissingField, Field: FieldEventName}
	case !seenTime || len(eventTime) == 0:
		return &Error{Reason: ReasonMissingField, Field: FieldEventTime}
	case len(platform) == 0:
		return &Error{Reason: ReasonMissingField, Field: FieldPlatform}
	}
	t, ok := ParseTime(eventTime)
	if !ok {
		return &Error{Reason: ReasonBadTime, Field: FieldEventTime, Detail: strconv.Quote(clip(eventTime))}
	}
	e.Time = t
	pl, ok := platforms[string(platform)]
	if !ok {
		return &Error{Reason: ReasonBadPlatform, Field: FieldPlatform, Detail: strconv.Quote(clip(platform))}
	}
	e.Platform = pl
	if e.MediaSource == "" {
		e.MediaSource = OrganicMediaSource
	}
	if !isNullish(revenue) {
		v, ok := ParseMicros(revenue)
		if !ok {
			return &Error{Reason: ReasonBadRevenue, Field: FieldRevenue, Detail: strconv.Quote(clip(revenue))}
		}
		e.HasRevenue, e.RevenueMicros, e.Currency = true, v, string(currency)
	}
	if !isNullish(revenueUSD) {
		v, ok := ParseMicros(revenueUSD)
		if !ok {
			return &Error{Reason: ReasonBadRevenue, Field: FieldRevenueUSD, Detail: strconv.Quote(clip(revenueUSD))}
		}
		e.RevenueUSDMicros = v
	} else if e.HasRevenue && bytes.EqualFold(currency, usd) {
		// AppsFlyer leaves event_revenue_usd out when the revenue already is
		// in US dollars; the revenue_usd measure must still count it.
		e.RevenueUSDMicros = e.RevenueMicros
	}
	return nil
}

var usd = []byte("USD")

// invalidUTF8At returns the offset of the first byte that is not part of a
// valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func fieldOf(key []byte) string {
	switch string(key) {
	case FieldAppID:
		return FieldAppID
	case FieldAppsFlyerID:
		return FieldAppsFlyerID
	case FieldEventName:
		return FieldEventName
	case FieldEventTime:
		return FieldEventTime
	case FieldMediaSource:
		return FieldMediaSource
	case FieldCampaign:
		return FieldCampaign
	case FieldPlatform:
		return FieldPlatform
	case FieldRevenue:
		return FieldRevenue
	case FieldRevenueUSD:
		return FieldRevenueUSD
	case FieldRevenueCurrency:
		return FieldRevenueCurrency
	}
	return ""
}

// isNullish reports the empty-value sentinels AppsFlyer and its CSV exports
// use for "no value".
func isNullish(v []byte) bool {
	switch string(v) {
	case "", "null", "NULL", "None", "N/A":
		return true
	}
	return false
}

func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// ParseTime parses AppsFlyer timestamps: "2006-01-02 15:04:05" (CSV),
// "2006-01-02 15:04:05.000" (push), optionally with a "T" separator and a
// "Z", "+0000" or "+00:00" offset. Without an offset the time is UTC, as
// AppsFlyer documents. The result is in UTC.
func ParseTime(b []byte) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	h, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	s, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		j := 1
		scale := 100_000_000
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			ns += int(rest[j]-'0') * scale
			scale /= 10
			j++
		}
		if j == 1 {
			return time.Time{}, false
		}
		rest = rest[j:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 5 || len(rest) == 6:
		sign := 1
		switch rest[0] {
		case '+':
		case '-':
			sign = -1
		default:
			return time.Time{}, false
		}
		oh, ok1 := digits(rest[1:3])
		mm := rest[3:]
		if len(mm) == 3 {
			if mm[0] != ':' {
				return time.Time{}, false
			}
			mm = mm[1:]
		}
		om, ok2 := digits(mm)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = sign * (oh*3600 + om*60)
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	if t.Day() != d { // 2026-02-30 normalises to March
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ParseMicros parses a decimal amount ("9.99", "-0.5", "12") into
// millionths, rounding half away from zero beyond six decimals. Exponent
// forms fall back to float parsing.
func ParseMicros(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 32 {
		return 0, false
	}
	i, neg := 0, false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i++
	}
	var whole, frac int64
	nd, nf := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if whole > (math.MaxInt64/1_000_000-9)/10 {
			return 0, false
		}
		whole = whole*10 + int64(b[i]-'0')
		nd++
	}
	roundUp := false
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			switch {
			case nf < 6:
				frac = frac*10 + int64(b[i]-'0')
			case nf == 6:
				roundUp = b[i] >= '5'
			}
			nf++
		}
	}
	if i != len(b) {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e12 {
			return 0, false
		}
		return int64(math.Round(f * 1e6)), true
	}
	if nd+nf == 0 {
		return 0, false
	}
	for k := min(nf, 6); k < 6; k++ {
		frac *= 10
	}
	v := whole*1_000_000 + frac
	if roundUp {
		v++
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanner walks JSON bytes without allocating.
type scanner struct {
	b []byte
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a JSON string and returns its contents, unescaped.
func (p *scanner) str() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start, escaped := p.i, false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !escaped {
				return raw, true
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return nil, false
			}
			return []byte(s), true
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return nil, false
		default:
			p.i++
		}
	}
	return nil, false
}

// value reads any JSON value. For scalars it returns the text a consumer
// wants ("" for null, the digits of a number, "true"/"false"); objects and
// arrays are skipped and reported as non-scalar.
func (p *scanner) value() (val []byte, scalar, ok bool) {
	if p.i >= len(p.b) {
		return nil, false, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		v, ok := p.str()
		return v, true, ok
	case c == '{' || c == '[':
		return nil, false, p.skipComposite()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		v, s, ok := p.literal("null")
		if ok {
			v = nil
		}
		return v, s, ok
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.b) {
			c := p.b[p.i]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				p.i++
				continue
			}
			break
		}
		if !validNumber(p.b[start:p.i]) {
			return nil, false, false
		}
		return p.b[start:p.i], true, true
	}
	return nil, false, false
}

// validNumber reports whether b is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

func (p *scanner) literal(lit string) ([]byte, bool, bool) {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return nil, false, false
	}
	v := p.b[p.i : p.i+len(lit)]
	p.i += len(lit)
	return v, true, true
}

// skipStr steps over a JSON string without decoding it.
func (p *scanner) skipStr() bool {
	if !p.eat('"') {
		return false
	}
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return true
		case c == '\\':
			if !p.escape() {
				return false
			}
		case c < 0x20:
			return false
		default:
			p.i++
		}
	}
	return false
}

// escape steps over one backslash escape, rejecting what JSON does not
// allow ("\x", short "\u").
func (p *scanner) escape() bool {
	if p.i+1 >= len(p.b) {
		return false
	}
	switch p.b[p.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		p.i += 2
		return true
	case 'u':
		if p.i+6 > len(p.b) {
			return false
		}
		for _, h := range p.b[p.i+2 : p.i+6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return false
			}
		}
		p.i += 6
		return true
	}
	return false
}

// skipValue steps over any JSON value.
func (p *scanner) skipValue() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch p.b[p.i] {
	case '"':
		return p.skipStr()
	case '{', '[':
		return p.skipComposite()
	}
	_, _, ok := p.value()
	return ok
}

// skipComposite skips a nested object or array, honouring strings.
func (p *scanner) skipComposite() bool {
	depth := 0
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '{', '[':
			depth++
			p.i++
		case '}', ']':
			depth--
			p.i++
			if depth == 0 {
				return true
			}
		case '"':
			if !p.skipStr() {
				return false
			}
		default:
			p.i++
		}
	}
	return false
}

// Platforms AppsFlyer reports for mobile apps.
var platforms = map[string]string{
	"ios":          "ios",
	"android":      "android",
	"windowsphone": "windowsphone",
	"iOS":          "ios",
	"Android":      "android",
}
