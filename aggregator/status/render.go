package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/campaignpulse/campaignpulse/aggregator/storeusage"
)

// WriteJSON writes r as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write status json: %w", err)
	}
	return nil
}

// WriteText writes r as aligned tables, one per section.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	section := func(title string) {
		_ = tw.Flush()
		fmt.Fprintf(w, "\n%s\n", title)
	}
	fmt.Fprintf(w, "campaignpulse status at %s\n", r.At.Format(time.RFC3339))

	section("Kafka topics")
	line("TOPIC", "PARTITIONS", "REPLICAS", "RETENTION", "CLEANUP")
	for _, t := range r.Topics {
		if !t.Exists {
			line(t.Name, "missing", "-", "-", "-")
			continue
		}
		line(t.Name, strconv.Itoa(t.Partitions), strconv.Itoa(t.Replicas), retention(t.RetentionMs), t.CleanupPolicy)
	}

	section(fmt.Sprintf("Consumer group %s on %s", r.Lag.Group, r.Lag.Topic))
	if !r.Lag.Committed && len(r.Lag.Partitions) > 0 {
		fmt.Fprintln(w, "(no committed offsets: lag counts from the log start)")
	}
	line("PARTITION", "NEXT", "END", "LAG RECORDS", "LAG SECONDS")
	for _, p := range r.Lag.Partitions {
		secs := "unknown"
		if p.Seconds != nil {
			secs = strconv.FormatFloat(*p.Seconds, 'f', 0, 64)
		}
		line(strconv.Itoa(int(p.Partition)), i64(p.Next), i64(p.End), i64(p.Records), secs)
	}

	section("Pull cursors")
	line("APP", "REPORT", "NEXT WINDOW FROM", "BEHIND", "OF IT COMMITTED")
	for _, c := range r.Cursors {
		partial := "-"
		if c.PartialRecords > 0 {
			partial = strconv.Itoa(c.PartialRecords) + " records"
		}
		line(c.AppID, c.Report, c.Next.Format(time.RFC3339), age(c.AgeSeconds), partial)
	}

	section("Aggregator partitions (checkpoints)")
	line("TOPIC", "PARTITION", "OFFSET", "WATERMARK", "LAST FLUSH", "FLUSH AGE", "COUNTED", "DUPLICATES", "TOO LATE", "DEAD-LETTERED")
	for _, p := range r.Partitions {
		line(p.Topic, strconv.Itoa(int(p.Partition)), i64(p.Offset), p.Watermark.Format(time.RFC3339), p.LastFlush.Format(time.RFC3339),
			age(p.LastFlushAgeSeconds), i64(p.Counted), i64(p.Duplicates), i64(p.TooLate), i64(p.DeadLettered))
	}

	section(fmt.Sprintf("MongoDB collections (database %s)", r.Database))
	line("COLLECTION", "TYPE", "DOCUMENTS", "DATA", "ON DISK", "INDEXES", "EXPIRY", "EXPIRE AFTER")
	for _, c := range r.Collections {
		line(c.Name, c.Type, i64(c.Documents), byteSize(c.DataBytes), byteSize(c.StorageBytes), byteSize(c.IndexBytes), expiry(c), expireAfter(c.ExpireAfterSeconds))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "\nProblems\n")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	return nil
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// retention renders retention.ms: whole days as "7d", else a Go duration.
func retention(ms int64) string {
	if ms < 0 {
		return "forever"
	}
	d := time.Duration(ms) * time.Millisecond
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// age renders seconds as a short duration ("42s", "3m10s", "2h5m").
func age(secs float64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case d < time.Hour:
		return d.Truncate(time.Second).String()
	default:
		return d.Truncate(time.Minute).String()
	}
}

// bytes renders a size in binary units with one decimal.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, exp := float64(n), 0
	for v >= unit && exp < 4 {
		v /= unit
		exp++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + []string{"", "KiB", "MiB", "GiB", "TiB"}[exp]
}

func expiry(c storeusage.Collection) string {
	if c.ExpiryField != "" {
		return string(c.Expiry) + " on " + c.ExpiryField
	}
	return string(c.Expiry)
}

func expireAfter(secs *int64) string {
	if secs == nil {
		return "-"
	}
	return retention(*secs * 1000)
}
