package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// runChart redraws chart.svg from a results.json (benchrun chart --results
// bench/results).
func runChart(args []string) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	dir := fs.String("results", "bench/results", "directory of results.json; chart.svg is written there")
	if err := fs.Parse(args); err != nil {
		return err
	}
	buf, err := os.ReadFile(filepath.Join(*dir, "results.json"))
	if err != nil {
		return err
	}
	var doc struct {
		Events     int      `json:"events"`
		Reps       int      `json:"reps"`
		Partitions int      `json:"partitions"`
		Results    []result `json:"results"`
	}
	if err := json.Unmarshal(buf, &doc); err != nil {
		return fmt.Errorf("%s/results.json: %w", *dir, err)
	}
	b := &bench{cfg: &config{events: doc.Events, reps: doc.Reps, partitions: doc.Partitions}, results: doc.Results}
	return os.WriteFile(filepath.Join(*dir, "chart.svg"), chart(b), 0o644)
}

// chart draws the median events/s per core of each engine as a small SVG
// bar chart (README.md shows it), with the absolute events/s as labels.
func chart(b *bench) []byte {
	type bar struct {
		name     string
		perCore  float64
		eps, p99 float64
	}
	var bars []bar
	for _, s := range []string{"ours", "ours+store", "kstreams", "kstreams-eos", "spark"} {
		pc := b.median(s, "throughput", func(r result) float64 { return r.EPSPerCore })
		if pc == 0 {
			continue
		}
		bars = append(bars, bar{s, pc, b.median(s, "throughput", func(r result) float64 { return r.EPS }),
			b.median(s, "freshness", func(r result) float64 { return r.P99ms })})
	}
	maxv := 1.0
	for _, x := range bars {
		maxv = max(maxv, x.perCore)
	}
	const w, rowH, left, barMax = 900, 34, 120, 420
	h := 50 + rowH*len(bars)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", w, h)
	fmt.Fprintf(&buf, `<rect width="100%%" height="100%%" fill="white"/><text x="10" y="22" font-weight="bold">events/s per core of engine CPU (median of %d runs, %d events, %d partitions)</text>`+"\n", b.cfg.reps, b.cfg.events, b.cfg.partitions)
	colors := map[string]string{"ours": "#2b7bb9", "ours+store": "#7fb3de", "spark": "#e25a1c", "kstreams": "#555555", "kstreams-eos": "#999999"}
	for i, x := range bars {
		y := 40 + i*rowH
		bw := int(x.perCore / maxv * barMax)
		fmt.Fprintf(&buf, `<text x="10" y="%d">%s</text><rect x="%d" y="%d" width="%d" height="22" fill="%s"/>`, y+16, x.name, left, y, max(bw, 1), colors[x.name])
		label := fmt.Sprintf("%.0f/core, %.0f events/s", x.perCore, x.eps)
		if x.p99 > 0 {
			label += fmt.Sprintf(", p99 %.0f ms", x.p99)
		}
		fmt.Fprintf(&buf, `<text x="%d" y="%d">%s</text>`+"\n", left+bw+6, y+16, label)
	}
	buf.WriteString("</svg>\n")
	return buf.Bytes()
}
