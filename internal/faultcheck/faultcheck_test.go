package faultcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// engineRoots are the engine's fault-path entry points.
var engineRoots = []string{"Snapshot.HandleWriteFault", "Snapshot.PrepareWrite"}

func goTool(t *testing.T) string {
	t.Helper()
	g, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func names(fs []*Func) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.Name] = true
	}
	return m
}

// TestEngineFaultPath: everything HandleWriteFault and PrepareWrite reach
// in snapshot and mmu is nosplit and allocates nothing.
func TestEngineFaultPath(t *testing.T) {
	g, err := Load("../../snapshot", "../../mmu")
	if err != nil {
		t.Fatal(err)
	}
	funcs, problems, err := g.Closure(engineRoots...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	for _, p := range NotNosplit(funcs) {
		t.Error(p)
	}
	// The graph reaches the page-table walk and its primitives.
	got := names(funcs)
	for _, want := range []string{"Snapshot.unprotect", "Snapshot.fallback", "Tables.Unprotect", "Tables.releasePage", "Tables.walkPage", "Tables.step",
		"visitor.release", "Tables.split", "Tables.pushDown", "Pool.alloc", "Flush.Apply", "Direct.Copy"} {
		if !got[want] {
			t.Errorf("fault path misses %s (found %d functions)", want, len(funcs))
		}
	}
	esc, err := Escapes(goTool(t), "../..", nil, []string{"./snapshot", "./mmu"}, funcs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range esc {
		t.Error(e)
	}
	t.Logf("%d fault-path functions checked", len(funcs))
}

// TestKernelFaultPath: the kernel's fault handlers down to the call into
// the engine (a function value), and the engine's fault path as the kernel
// compiles it, built with the GOOS=tamago toolchain.
func TestKernelFaultPath(t *testing.T) {
	tgo := os.Getenv("TAMAGO_GO")
	if tgo == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TAMAGO_GO is not set (make test sets it)")
		}
		t.Skip("TAMAGO_GO is not set (make test sets it)")
	}
	g, err := Load("../../kernel", "../../board/ioport", "../../mmu")
	if err != nil {
		t.Fatal(err)
	}
	for arch, root := range map[string]string{"amd64": "pageFault", "arm64": "dataAbort"} {
		funcs, problems, err := g.Closure(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", arch, p)
		}
		for _, p := range NotNosplit(funcs) {
			t.Errorf("%s: %s", arch, p)
		}
		esc, err := Escapes(tgo, "../..", []string{"GOOS=tamago", "GOARCH=" + arch, "GOOSPKG=github.com/usbarmory/tamago"}, []string{"./kernel"}, funcs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range esc {
			t.Errorf("%s: %s", arch, e)
		}
		t.Logf("%s: %d fault-path functions checked", arch, len(funcs))
	}
	// The engine as the kernel builds it (mmu.Direct, mmu.TLB: tamago files).
	eg, err := Load("../../snapshot", "../../mmu")
	if err != nil {
		t.Fatal(err)
	}
	funcs, _, err := eg.Closure(engineRoots...)
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		esc, err := Escapes(tgo, "../..", []string{"GOOS=tamago", "GOARCH=" + arch, "GOOSPKG=github.com/usbarmory/tamago"}, []string{"./snapshot", "./mmu"}, funcs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range esc {
			t.Errorf("engine on tamago/%s: %s", arch, e)
		}
	}
}

// TestDetects builds a copy of package mmu with an allocation injected in
// the one-page walk (walkPage, Unprotect's) and //go:nosplit removed from a visitor method: the check must
// report both, and nothing else.
func TestDetects(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/pagesnap/pagesnap\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mmu := filepath.Join(dir, "mmu")
	if err := os.Mkdir(mmu, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../mmu/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if filepath.Base(f) == "walker.go" {
			for _, r := range []struct{ old, new string }{
				{"\ttab, level := uint64(t.Root), 0\n", "\ttab, level := uint64(t.Root), 0\n\tleaked = make([]uint64, v.level+1)\n"},
				{"//\n//go:nosplit\nfunc (v *visitor) release(", "func (v *visitor) release("},
			} {
				if !strings.Contains(s, r.old) {
					t.Fatalf("walker.go no longer contains %q", r.old)
				}
				s = strings.Replace(s, r.old, r.new, 1)
			}
			s += "\nvar leaked []uint64\n"
		}
		if err := os.WriteFile(filepath.Join(mmu, filepath.Base(f)), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g, err := Load(mmu)
	if err != nil {
		t.Fatal(err)
	}
	funcs, problems, err := g.Closure("Tables.Unprotect")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("problems %q", problems)
	}
	ns := NotNosplit(funcs)
	if len(ns) != 1 || !strings.HasPrefix(ns[0], "mmu.visitor.release ") {
		t.Errorf("missing nosplit found: %q, want visitor.release only", ns)
	}
	esc, err := Escapes(goTool(t), dir, nil, []string{"./mmu"}, funcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(esc) != 1 || !strings.Contains(esc[0], "walker.go") || !strings.Contains(esc[0], "make([]uint64") ||
		!strings.HasSuffix(esc[0], "escapes to heap: in Tables.walkPage") {
		t.Errorf("escapes found: %q, want the make in Tables.walkPage only", esc)
	}
}
