package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// flagRef matches what reads as a flag name in a message: a registered
// namespace, a dot and a dashed word ("pull.delay", "--kafka.brokers");
// script names (kafka.sh) are not flags.
var flagRef = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.-])-{0,2}((?:kafka|mongo|aggregate|pull|push|appsflyer|backfill|ingest|http|run|sim)\.[a-z][a-z0-9-]*)`)

// TestErrorMessagesNameRegisteredFlags: a configuration error must name a
// flag the user can actually set. Every flag name spelled in an error
// message (errors.New, fmt.Errorf) anywhere in the Go backend, and every
// Flag* constant the messages take their names from, must be registered by
// one of the binary's commands or the chaos tool.
func TestErrorMessagesNameRegisteredFlags(t *testing.T) {
	registered := map[string]bool{}
	for name := range commands {
		for _, f := range helpOf(t, name) {
			registered[strings.TrimPrefix(f.name, "--")] = true
		}
	}
	for _, f := range chaosFlags(t) {
		registered[strings.TrimPrefix(f.name, "--")] = true
	}

	var checked int
	check := func(pos token.Position, s, what string) {
		for _, m := range flagRef.FindAllStringSubmatch(s, -1) {
			if strings.HasSuffix(m[1], ".sh") {
				continue
			}
			checked++
			if !registered[m[1]] {
				t.Errorf("%s: %s names %q, which no command registers", pos, what, m[1])
			}
		}
	}
	root := filepath.Join("..", "..", "..")
	for _, dir := range []string{"aggregator", filepath.Join("grafana-plugin", "pkg")} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec: // const FlagX = "name"
					for i, id := range n.Names {
						if strings.HasPrefix(id.Name, "Flag") && i < len(n.Values) {
							if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								v, _ := strconv.Unquote(lit.Value)
								check(fset.Position(lit.Pos()), " "+v, "constant "+id.Name)
							}
						}
					}
				case *ast.CallExpr:
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					pkg, ok := sel.X.(*ast.Ident)
					if !ok || !(pkg.Name == "errors" && sel.Sel.Name == "New" || pkg.Name == "fmt" && sel.Sel.Name == "Errorf") {
						return true
					}
					ast.Inspect(n, func(m ast.Node) bool {
						if lit, ok := m.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							check(fset.Position(lit.Pos()), v, "error message")
						}
						return true
					})
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d flag names found in messages and constants: the scan is not reading the code", checked)
	}
}
