// Package faultcheck checks the fault path's rules at build time, in the
// spirit of gVisor's +checkescape: every function the write-fault handler
// can reach is //go:nosplit, and nothing in those functions escapes to the
// heap according to the compiler's escape analysis (go build -gcflags=-m).
//
// The fault path is found from its roots by a syntactic call graph over
// the given packages' sources: a call f(...) or x.f(...) reaches every
// function or method named f in those packages (an over-approximation:
// same-named functions are all checked). Calls through interfaces the
// engine defines (PhysMem, TLB) reach their implementations that way too.
// A call into another package is allowed only for sync/atomic and unsafe;
// a call through a function value ends the graph (the kernel calls the
// engine through one, see kernel/fault_amd64.go).
package faultcheck

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Func is one function or method declaration.
type Func struct {
	Pkg     string // package directory
	Name    string // "f" or "T.f"
	File    string // path of its file
	Start   int    // first line
	End     int    // last line
	Nosplit bool
	decl    *ast.FuncDecl
	imports map[string]string // file's import name -> path
}

func (f *Func) String() string {
	return fmt.Sprintf("%s.%s (%s:%d)", filepath.Base(f.Pkg), f.Name, f.File, f.Start)
}

// Graph is the functions of a set of package directories, by bare name.
type Graph struct {
	fset   *token.FileSet
	byName map[string][]*Func
	types  map[string]bool // type names (conversions are not calls)
}

// Load parses the non-test Go files of dirs (every build configuration).
func Load(dirs ...string) (*Graph, error) {
	g := &Graph{fset: token.NewFileSet(), byName: map[string][]*Func{}, types: map[string]bool{}}
	for _, dir := range dirs {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(g.fset, n, nil, parser.ParseComments)
			if err != nil {
				return nil, err
			}
			imports := map[string]string{}
			for _, im := range f.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				name := filepath.Base(p)
				if im.Name != nil {
					name = im.Name.Name
				}
				imports[name] = p
			}
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.GenDecl:
					for _, s := range d.Specs {
						if ts, ok := s.(*ast.TypeSpec); ok {
							g.types[ts.Name.Name] = true
						}
					}
				case *ast.FuncDecl:
					fn := &Func{Pkg: dir, Name: d.Name.Name, File: n, decl: d, imports: imports,
						Start: g.fset.Position(d.Pos()).Line, End: g.fset.Position(d.End()).Line}
					if d.Recv != nil && len(d.Recv.List) == 1 {
						fn.Name = recvType(d.Recv.List[0].Type) + "." + d.Name.Name
					}
					if d.Doc != nil {
						for _, c := range d.Doc.List {
							if c.Text == "//go:nosplit" {
								fn.Nosplit = true
							}
						}
					}
					g.byName[d.Name.Name] = append(g.byName[d.Name.Name], fn)
				}
			}
		}
	}
	return g, nil
}

func recvType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvType(t.X)
	case *ast.IndexExpr:
		return recvType(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}

// allowedPkgs may be called from the fault path: compiler intrinsics and
// pointer arithmetic.
var allowedPkgs = map[string]bool{"sync/atomic": true, "unsafe": true}

// builtins that allocate nothing when used as the fault path uses them
// (append and new are not among them).
var builtins = map[string]bool{"len": true, "cap": true, "min": true, "max": true, "clear": true, "copy": false, "panic": false}

// Closure returns the functions reachable from roots ("T.f" or "f" names,
// each of which must exist) and the calls the rules forbid.
func (g *Graph) Closure(roots ...string) (funcs []*Func, problems []string, err error) {
	seen := map[*Func]bool{}
	var queue []*Func
	for _, r := range roots {
		bare := r[strings.LastIndex(r, ".")+1:]
		found := false
		for _, f := range g.byName[bare] {
			if f.Name == r {
				queue = append(queue, f)
				seen[f] = true
				found = true
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("faultcheck: root %s not found", r)
		}
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		funcs = append(funcs, f)
		if f.decl.Body == nil {
			continue // assembly
		}
		ast.Inspect(f.decl.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				problems = append(problems, fmt.Sprintf("%s: %s: function literal on the fault path", g.fset.Position(n.Pos()), f.Name))
				return false
			case *ast.GoStmt:
				problems = append(problems, fmt.Sprintf("%s: %s: go statement on the fault path", g.fset.Position(n.Pos()), f.Name))
			case *ast.DeferStmt:
				problems = append(problems, fmt.Sprintf("%s: %s: defer on the fault path", g.fset.Position(n.Pos()), f.Name))
			case *ast.CallExpr:
				var name string
				switch fun := ast.Unparen(n.Fun).(type) {
				case *ast.Ident:
					name = fun.Name
					if ok, isBuiltin := builtins[name]; isBuiltin && len(g.byName[name]) == 0 {
						if !ok {
							problems = append(problems, fmt.Sprintf("%s: %s: calls %s", g.fset.Position(n.Pos()), f.Name, name))
						}
						return true
					}
				case *ast.SelectorExpr:
					name = fun.Sel.Name
					if x, ok := fun.X.(*ast.Ident); ok {
						if p, isPkg := f.imports[x.Name]; isPkg && x.Obj == nil {
							if allowedPkgs[p] || g.types[name] {
								return true
							}
							if len(g.byName[name]) == 0 {
								problems = append(problems, fmt.Sprintf("%s: %s: calls %s.%s", g.fset.Position(n.Pos()), f.Name, p, name))
								return true
							}
						}
					}
				case *ast.IndexExpr, *ast.ArrayType, *ast.StarExpr, *ast.FuncType, *ast.InterfaceType:
					return true // conversion or generic instantiation
				default:
					return true
				}
				if g.types[name] || name == "uint64" || name == "uint32" || name == "uint8" || name == "int" || name == "uintptr" || name == "bool" {
					return true // conversion
				}
				for _, c := range g.byName[name] {
					if !seen[c] {
						seen[c] = true
						queue = append(queue, c)
					}
				}
			}
			return true
		})
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].String() < funcs[j].String() })
	return funcs, problems, nil
}

// NotNosplit returns the Go functions (with a body) of funcs that lack
// //go:nosplit.
func NotNosplit(funcs []*Func) []string {
	var out []string
	for _, f := range funcs {
		if f.decl.Body != nil && !f.Nosplit {
			out = append(out, f.String()+": not //go:nosplit")
		}
	}
	return out
}

// diag is one line of the compiler's -m output.
var diag = regexp.MustCompile(`^(.+\.go):(\d+):\d+: (.*)$`)

// Escapes builds pkgs (go build -gcflags=-m, in dir, with env added to
// the environment) and returns the compiler's heap diagnostics ("escapes
// to heap", "moved to heap") that fall inside funcs.
func Escapes(goTool, dir string, env []string, pkgs []string, funcs []*Func) ([]string, error) {
	args := append([]string{"build", "-gcflags=-m", "-o", os.DevNull}, pkgs...)
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("faultcheck: go %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	var res []string
	seen := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		m := diag.FindStringSubmatch(line)
		if m == nil || !(strings.Contains(m[3], "escapes to heap") || strings.Contains(m[3], "moved to heap")) {
			continue
		}
		if strings.HasSuffix(m[3], "does not escape") {
			continue
		}
		file := m[1]
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		ln, _ := strconv.Atoi(m[2])
		for _, f := range funcs {
			if sameFile(f.File, file) && ln >= f.Start && ln <= f.End && !seen[line] {
				seen[line] = true
				res = append(res, fmt.Sprintf("%s: in %s", line, f.Name))
			}
		}
	}
	return res, nil
}

func sameFile(a, b string) bool {
	a, _ = filepath.Abs(a)
	b, _ = filepath.Abs(b)
	return a == b
}
