package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/campaignpulse/campaignpulse/aggregator/testbed/chaos"
	"github.com/campaignpulse/campaignpulse/grafana-plugin/pkg/plugin"
)

// docs/config.md is generated from the code between marker comments and
// checked against it here, so a new flag, a changed default or a new
// datasource setting cannot ship undocumented. Refresh with:
//
//	go test ./aggregator/cmd/campaignpulse -run TestConfigDoc -update-docs
var updateDocs = flag.Bool("update-docs", false, "rewrite the generated tables in docs/config.md")

const (
	configDoc     = "../../../docs/config.md"
	configDocName = "docs/config.md" // in messages
	pluginSetting = "../../../grafana-plugin/pkg/plugin/settings.go"
)

// setting is one documented row: a flag or a datasource key.
type setting struct {
	name, env, def, meaning string
}

// usageLine matches the lines parseFlags' usage function prints.
var usageLine = regexp.MustCompile(`(?m)^  --(\S+) \(env (\S+), default ("(?:[^"\\]|\\.)*")\)\n      (.*)$`)

// helpOf runs `campaignpulse <name> --help` in-process and parses what the
// command's own FlagSet prints, so the list is exactly what users see.
func helpOf(t *testing.T, name string) []setting {
	t.Helper()
	cmd, ok := commands[name]
	if !ok {
		t.Fatalf("command %q is not registered", name)
	}
	f, err := os.CreateTemp(t.TempDir(), "help")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stderr := os.Stderr
	os.Stderr = f // flag.FlagSet.Output() is os.Stderr when unset, read at print time
	err = cmd.run(context.Background(), []string{"--help"}, slog.New(slog.DiscardHandler))
	os.Stderr = stderr
	if !errors.Is(err, errUsage) {
		t.Fatalf("%s --help: got %v, want the usage error", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	var flags []setting
	for _, m := range usageLine.FindAllStringSubmatch(string(out), -1) {
		def, err := strconv.Unquote(m[3])
		if err != nil {
			t.Fatalf("%s --help: default %s: %v", name, m[3], err)
		}
		flags = append(flags, setting{name: "--" + m[1], env: m[2], def: def, meaning: m[4]})
	}
	if len(flags) == 0 {
		t.Fatalf("%s --help printed no flags in the expected format:\n%s", name, out)
	}
	return flags
}

// chaosFlags lists the chaos tool's flags from the registration its main
// calls (chaos.Options.RegisterFlags); the tool adds none of its own.
func chaosFlags(t *testing.T) []setting {
	t.Helper()
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	new(chaos.Options).RegisterFlags(fs)
	var flags []setting
	fs.VisitAll(func(f *flag.Flag) {
		flags = append(flags, setting{name: "--" + f.Name, def: f.DefValue, meaning: f.Usage})
	})
	if len(flags) == 0 {
		t.Fatal("the chaos tool registers no flags")
	}
	return flags
}

func stringLit(e ast.Expr) (string, error) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", errors.New("not a string literal")
	}
	return strconv.Unquote(lit.Value)
}

// pluginSettings lists the datasource's jsonData keys (Settings' json tags,
// with their doc comments) and secureJsonData keys (the Secure* constants).
func pluginSettings(t *testing.T) (jsonData, secure []setting) {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, pluginSetting, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{} // Go field or constant name -> comment
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if len(n.Names) == 1 && n.Doc != nil {
				docs[n.Names[0].Name] = oneLine(n.Doc.Text())
			}
		case *ast.ValueSpec:
			if len(n.Names) == 1 && n.Comment != nil {
				docs[n.Names[0].Name] = oneLine(n.Comment.Text())
			}
		}
		return true
	})
	st := reflect.TypeFor[plugin.Settings]()
	for i := range st.NumField() {
		f := st.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		jsonData = append(jsonData, setting{name: key, def: f.Type.String(), meaning: sentence(docs[f.Name], f.Name)})
	}
	for goName, key := range map[string]string{
		"SecureMongoURI": plugin.SecureMongoURI, "SecureMongoPassword": plugin.SecureMongoPassword,
		"SecureKafkaSASLPassword": plugin.SecureKafkaSASLPassword,
	} {
		secure = append(secure, setting{name: key, meaning: sentence(docs[goName], goName)})
	}
	sort.Slice(secure, func(i, j int) bool { return secure[i].name < secure[j].name })
	return jsonData, secure
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// sentence turns a Go comment into a table cell: "MongoTLS turns TLS on"
// -> "turns TLS on", "MongoDatabase is the database" -> "the database".
func sentence(comment, goName string) string {
	return strings.TrimPrefix(strings.TrimPrefix(comment, goName+" "), "is ")
}

// sectionOf groups flags by their prefix: --kafka.brokers -> kafka.
func sectionOf(name string) string {
	s, _, _ := strings.Cut(strings.TrimPrefix(name, "--"), ".")
	return s
}

func cell(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "`" + s + "`"
}

func text(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// flagTables renders a command's flags as one table per section.
func flagTables(flags []setting, withEnv bool) string {
	var b strings.Builder
	if !withEnv { // the chaos tool: few flags, one table
		b.WriteString("| Flag | Default | Meaning |\n|---|---|---|\n")
		for _, f := range flags {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.name, cell(f.def), text(f.meaning))
		}
		return b.String()
	}
	section := ""
	for _, f := range flags {
		if s := sectionOf(f.name); s != section {
			if section != "" {
				b.WriteString("\n")
			}
			section = s
			fmt.Fprintf(&b, "#### `--%s.*`\n\n| Flag | Env | Default | Meaning |\n|---|---|---|---|\n", s)
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", f.name, f.env, cell(f.def), text(f.meaning))
	}
	return b.String()
}

func keyTable(keys []setting, withType bool) string {
	var b strings.Builder
	if withType {
		b.WriteString("| jsonData key | Type | Meaning |\n|---|---|---|\n")
	} else {
		b.WriteString("| secureJsonData key | Meaning |\n|---|---|\n")
	}
	for _, k := range keys {
		if withType {
			fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", k.name, k.def, text(k.meaning))
		} else {
			fmt.Fprintf(&b, "| `%s` | %s |\n", k.name, text(k.meaning))
		}
	}
	return b.String()
}

// block returns the text between the markers of id, or false.
func block(doc, id string) (string, bool) {
	begin, end := "<!-- BEGIN GENERATED "+id+" -->\n", "<!-- END GENERATED "+id+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", false
	}
	return doc[i+len(begin) : j], true
}

func replaceBlock(doc, id, content string) (string, bool) {
	old, ok := block(doc, id)
	if !ok {
		return doc, false
	}
	begin := "<!-- BEGIN GENERATED " + id + " -->\n"
	return strings.Replace(doc, begin+old, begin+content, 1), true
}

// rowCells splits the table rows of a block whose first cell is a
// backquoted name: name -> cells.
func rowCells(blk string) map[string][]string {
	rows := map[string][]string{}
	for _, line := range strings.Split(blk, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[0], "`")] = cells
	}
	return rows
}

type docBlock struct {
	id      string
	content string
	keys    []setting
	withEnv bool // rows carry env and default cells to compare
	chaos   bool // rows carry a default cell at index 1
}

func TestConfigDoc(t *testing.T) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var blocks []docBlock
	for _, n := range names {
		flags := helpOf(t, n)
		blocks = append(blocks, docBlock{id: "flags " + n, content: flagTables(flags, true), keys: flags, withEnv: true})
	}
	chaos := chaosFlags(t)
	blocks = append(blocks, docBlock{id: "flags chaos", content: flagTables(chaos, false), keys: chaos, chaos: true})
	jsonData, secure := pluginSettings(t)
	blocks = append(blocks,
		docBlock{id: "plugin jsonData", content: keyTable(jsonData, true), keys: jsonData},
		docBlock{id: "plugin secureJsonData", content: keyTable(secure, false), keys: secure})

	raw, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatalf("read %s: %v", configDoc, err)
	}
	doc := string(raw)
	if *updateDocs {
		for _, b := range blocks {
			var ok bool
			if doc, ok = replaceBlock(doc, b.id, b.content); !ok {
				t.Errorf("%s: no <!-- BEGIN/END GENERATED %s --> markers; add them where the table belongs", configDocName, b.id)
			}
		}
		if err := os.WriteFile(configDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}

	var missing, stale, wrong, outdated []string
	for _, b := range blocks {
		blk, ok := block(doc, b.id)
		if !ok {
			t.Errorf("%s: no <!-- BEGIN/END GENERATED %s --> markers", configDocName, b.id)
			continue
		}
		rows := rowCells(blk)
		where := strings.TrimPrefix(b.id, "flags ")
		for _, k := range b.keys {
			cells, ok := rows[k.name]
			delete(rows, k.name)
			switch {
			case !ok:
				missing = append(missing, where+" "+k.name)
			case b.withEnv && (len(cells) < 4 || cells[1] != "`"+k.env+"`" || cells[2] != cell(k.def)):
				wrong = append(wrong, fmt.Sprintf("%s %s (want env %s, default %s)", where, k.name, k.env, cell(k.def)))
			case b.chaos && (len(cells) < 3 || cells[1] != cell(k.def)):
				wrong = append(wrong, fmt.Sprintf("%s %s (want default %s)", where, k.name, cell(k.def)))
			}
		}
		for name := range rows {
			stale = append(stale, where+" "+name)
		}
		if strings.TrimSpace(blk) != strings.TrimSpace(b.content) {
			outdated = append(outdated, where)
		}
	}
	sort.Strings(stale)
	var msg strings.Builder
	if len(missing) > 0 {
		fmt.Fprintf(&msg, "\nmissing from %s:\n  %s", configDocName, strings.Join(missing, "\n  "))
	}
	if len(wrong) > 0 {
		fmt.Fprintf(&msg, "\nwrong env or default in %s:\n  %s", configDocName, strings.Join(wrong, "\n  "))
	}
	if len(stale) > 0 {
		fmt.Fprintf(&msg, "\ndocumented in %s but gone from the code:\n  %s", configDocName, strings.Join(stale, "\n  "))
	}
	if len(outdated) > 0 {
		fmt.Fprintf(&msg, "\ntables of %s that differ from the code (a meaning, an order or a format):\n  %s", configDocName, strings.Join(outdated, "\n  "))
	}
	if msg.Len() > 0 {
		t.Errorf("%s\nregenerate the tables with: go test ./aggregator/cmd/campaignpulse -run TestConfigDoc -update-docs", msg.String())
	}
}

// TestEnvNameInConfigDoc keeps the documented env rule in step with envName.
func TestEnvNameInConfigDoc(t *testing.T) {
	raw, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	if got := envName("kafka.raw-partitions"); !strings.Contains(string(raw), "`--kafka.raw-partitions` -> `"+got+"`") {
		t.Errorf("%s should show the env rule as `--kafka.raw-partitions` -> `%s`", configDocName, got)
	}
}
