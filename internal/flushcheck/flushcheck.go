// Package flushcheck finds dropped mmu.Flush values: a call to a page-table
// operation whose Flush result (the TLB invalidation it requires) is
// discarded — the call used as a statement, `go` or `defer`, its Flush
// assigned to the blank identifier, or a Flush variable assigned to it. A
// Flush must be applied (Flush.Apply) or dropped on purpose (Flush.Ignore,
// with a comment saying which invalidation covers it); the compiler already
// rejects a Flush variable that is never used.
//
// The check is syntactic, so it also covers the GOOS=tamago kernel files:
// the operations are the methods that package mmu declares with a Flush
// result (read from its source), matched by name at call sites.
package flushcheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Op is a page-table operation returning a Flush.
type Op struct {
	Results int // number of results
	Flush   int // index of the Flush result
}

// Ops returns the methods declared in the Go package at dir (package mmu)
// with a result of type Flush, by name.
func Ops(dir string) (map[string]Op, error) {
	fset := token.NewFileSet()
	files, err := parseDir(fset, dir)
	if err != nil {
		return nil, err
	}
	ops := map[string]Op{}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Type.Results == nil {
				continue
			}
			i := 0
			for _, r := range fd.Type.Results.List {
				n := max(len(r.Names), 1)
				if id, ok := r.Type.(*ast.Ident); ok && id.Name == "Flush" {
					ops[fd.Name.Name] = Op{Flush: i}
				}
				i += n
			}
			if op, ok := ops[fd.Name.Name]; ok {
				op.Results = i
				ops[fd.Name.Name] = op
			}
		}
	}
	return ops, nil
}

// parseDir parses the non-test Go files of dir.
func parseDir(fset *token.FileSet, dir string) ([]*ast.File, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// Check returns one line per dropped Flush in the non-test Go files under
// root (testdata directories excluded), "file:line: message", sorted.
func Check(root string, ops map[string]Op) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		out = append(out, CheckFile(fset, f, ops)...)
		return nil
	})
	sort.Strings(out)
	return out, err
}

// CheckFile returns the dropped Flush values in f.
func CheckFile(fset *token.FileSet, f *ast.File, ops map[string]Op) []string {
	var out []string
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	// op returns the operation e calls, if any.
	op := func(e ast.Expr) (string, Op, bool) {
		c, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok {
			return "", Op{}, false
		}
		sel, ok := c.Fun.(*ast.SelectorExpr)
		if !ok {
			return "", Op{}, false
		}
		o, ok := ops[sel.Sel.Name]
		return sel.Sel.Name, o, ok
	}
	flushVars := map[*ast.Object]bool{} // variables holding a Flush
	ast.Inspect(f, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.ExprStmt:
			if name, _, ok := op(s.X); ok {
				report(s, "%s: Flush result discarded (Apply it or Ignore it)", name)
			}
		case *ast.GoStmt:
			if name, _, ok := op(s.Call); ok {
				report(s, "%s: Flush result discarded by go", name)
			}
		case *ast.DeferStmt:
			if name, _, ok := op(s.Call); ok {
				report(s, "%s: Flush result discarded by defer", name)
			}
		case *ast.AssignStmt:
			if len(s.Rhs) == 1 {
				if name, o, ok := op(s.Rhs[0]); ok && len(s.Lhs) == o.Results {
					id, isID := s.Lhs[o.Flush].(*ast.Ident)
					switch {
					case isID && id.Name == "_":
						report(s, "%s: Flush result assigned to _ (Apply it or Ignore it)", name)
					case isID && id.Obj != nil:
						flushVars[id.Obj] = true
					}
				}
			}
			for i, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == "_" && i < len(s.Rhs) {
					if r, ok := s.Rhs[i].(*ast.Ident); ok && r.Obj != nil && flushVars[r.Obj] {
						report(s, "Flush %s assigned to _ (Apply it or Ignore it)", r.Name)
					}
				}
			}
		}
		return true
	})
	return out
}
