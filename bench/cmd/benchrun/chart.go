package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// runChart redraws chart.svg from a results.json (benchrun chart --results
// bench/results).
func runChart(args []string) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	dir := fs.String("results", "bench/results", "directory of results.json; chart.svg is written there")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := loadResults(*dir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*dir, "chart.svg"), chart(b), 0o644)
}

// runTable prints the medians of a results.json as the Markdown table
// README.md and docs/scaling.md show (benchrun table --results
// bench/results).
func runTable(args []string) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	dir := fs.String("results", "bench/results", "directory of results.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := loadResults(*dir)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(table(b))
	return err
}

func loadResults(dir string) (*bench, error) {
	buf, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Events     int      `json:"events"`
		Reps       int      `json:"reps"`
		Partitions int      `json:"partitions"`
		Multi      int      `json:"multi"`
		Results    []result `json:"results"`
	}
	if err := json.Unmarshal(buf, &doc); err != nil {
		return nil, fmt.Errorf("%s/results.json: %w", dir, err)
	}
	return &bench{cfg: &config{events: doc.Events, reps: doc.Reps, partitions: doc.Partitions, multi: doc.Multi}, results: doc.Results}, nil
}

// table renders the medians per engine as Markdown: throughput, per-core
// and memory figures of the throughput runs (range over the repetitions in
// brackets), freshness of the steady run, and what was checked.
func table(b *bench) []byte {
	var buf bytes.Buffer
	multi := fmt.Sprintf("ours-x%d", b.cfg.multi)
	fmt.Fprintf(&buf, "| engine | events/s (range) | events/s per core of engine CPU | CPU-s per million events | cores used | peak RSS | freshness p50 / p99 | totals, notes |\n")
	fmt.Fprintf(&buf, "|---|---|---|---|---|---|---|---|\n")
	for _, s := range []string{"ours", "ours+store", "spark", "kstreams", "kstreams-eos", multi, multi + "+store"} {
		kind := "throughput"
		if strings.HasPrefix(s, multi) {
			kind = "multi"
		}
		var runs []result
		for _, r := range b.results {
			if r.System == s && r.Kind == kind {
				runs = append(runs, r)
			}
		}
		if len(runs) == 0 {
			continue
		}
		med := func(f func(result) float64) float64 { return b.median(s, kind, f) }
		lo, hi := runs[0].EPS, runs[0].EPS
		worst, capped, storeCPU := 0, 0, 0.0
		for _, r := range runs {
			lo, hi = min(lo, r.EPS), max(hi, r.EPS)
			if r.Partial {
				capped++
			} else {
				worst = max(worst, r.Mismatched)
			}
			storeCPU += r.StoreCPU / float64(len(runs))
		}
		eps := fmt.Sprintf("%s (%s-%s)", thousands(med(func(r result) float64 { return r.EPS })), thousands(lo), thousands(hi))
		if len(runs) == 1 {
			eps = thousands(runs[0].EPS)
		}
		fresh := ""
		if p99 := b.median(s, "freshness", func(r result) float64 { return r.P99ms }); p99 > 0 {
			fresh = fmt.Sprintf("%s / %s ms", thousands(b.median(s, "freshness", func(r result) float64 { return r.P50ms })), thousands(p99))
		}
		var notes []string
		if capped < len(runs) {
			notes = append(notes, fmt.Sprintf("`mismatched_windows=%d`", worst))
		}
		if capped > 0 {
			notes = append(notes, fmt.Sprintf("%d of %d runs capped", capped, len(runs)))
		}
		if storeCPU > 0 {
			notes = append(notes, fmt.Sprintf("store %.1f CPU-s", storeCPU))
		}
		fmt.Fprintf(&buf, "| %s | %s | %s | %.1f | %.2f | %s MB | %s | %s |\n", s, eps,
			thousands(med(func(r result) float64 { return r.EPSPerCore })), med(func(r result) float64 { return r.CPUPerMEvent }),
			med(func(r result) float64 { return r.CoresUsed }), thousands(med(func(r result) float64 { return r.PeakRSSMB })), fresh, strings.Join(notes, ", "))
	}
	return buf.Bytes()
}

// thousands formats a rounded number with thousands separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
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
