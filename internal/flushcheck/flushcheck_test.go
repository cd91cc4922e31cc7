package flushcheck

import (
	"go/parser"
	"go/token"
	"reflect"
	"testing"
)

func mmuOps(t *testing.T) map[string]Op {
	t.Helper()
	ops, err := Ops("../../mmu")
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// TestOps: the operations are read from package mmu's source.
func TestOps(t *testing.T) {
	want := map[string]Op{
		"Protect":        {Results: 3, Flush: 1},
		"UnprotectRange": {Results: 3, Flush: 1},
		"Unprotect":      {Results: 2, Flush: 0},
		"UnprotectLeaf":  {Results: 2, Flush: 0},
		"unprotect":      {Results: 2, Flush: 0},
	}
	if got := mmuOps(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("mmu operations returning a Flush: %v, want %v", got, want)
	}
}

// TestDetects: every way of dropping a Flush in testdata is reported, and
// nothing else.
func TestDetects(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "testdata/dropped.go.txt", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := CheckFile(fset, f, mmuOps(t))
	want := []string{
		"testdata/dropped.go.txt:4:2: Protect: Flush result discarded (Apply it or Ignore it)",
		"testdata/dropped.go.txt:5:2: UnprotectRange: Flush result assigned to _ (Apply it or Ignore it)",
		"testdata/dropped.go.txt:7:2: Flush f assigned to _ (Apply it or Ignore it)",
		"testdata/dropped.go.txt:8:2: Unprotect: Flush result discarded by go",
		"testdata/dropped.go.txt:9:2: UnprotectLeaf: Flush result discarded by defer",
		"testdata/dropped.go.txt:10:2: Unprotect: Flush result assigned to _ (Apply it or Ignore it)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings:\n%q\nwant:\n%q", got, want)
	}
}

// TestModule: no Flush is dropped anywhere in the module (kernel included).
func TestModule(t *testing.T) {
	got, err := Check("../..", mmuOps(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		t.Error(g)
	}
}
