package stdtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu"
)

// TestQuick runs make std-test's quick subset (Quick) on both arches:
// each test binary must build with the board linked in, find its files in
// the in-memory file system, pass its Examples (which capture standard
// output through a temporary file) and end the machine with status 0.
func TestQuick(t *testing.T) {
	goBin, mod := toolchain(t)
	for _, arch := range []string{"amd64", "arm64"} {
		for _, p := range Quick {
			r := Run(context.Background(), Options{Arch: arch, Go: goBin, Module: mod, Dir: t.TempDir()}, p)
			t.Logf("%s: %s", arch, r.Line())
			if !r.Pass {
				t.Errorf("%s %s: %s\n%s", arch, p.Path, r.Why, r.Console)
			}
		}
	}
}

func TestLine(t *testing.T) {
	r := Result{Package: Package{Path: "sort"}, Pass: false, Why: "exit status 1: --- FAIL: TestX"}
	if got, want := r.Line(), "FAIL sort             (0.0s): exit status 1: --- FAIL: TestX"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	r.Pass = true
	if got, want := r.Line(), "ok   sort             (0.0s)"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}

// TestModuleExamples runs the module's public API examples (package
// pagesnap's Example functions: a live snapshot under work, Wait, Verify,
// the kept image and Discard, Status, a refused share) in QEMU on both
// arches, as go test runs them: each example's standard output is
// compared with its // Output: comment.
func TestModuleExamples(t *testing.T) {
	goBin, mod := toolchain(t)
	for _, arch := range []string{"amd64", "arm64"} {
		p := Package{Path: "github.com/pagesnap/pagesnap"}
		r := Run(context.Background(), Options{Arch: arch, Go: goBin, Module: mod, Dir: t.TempDir(), NoKernel: true}, p)
		t.Logf("%s: %s", arch, r.Line())
		if !r.Pass {
			t.Errorf("%s %s: %s\n%s", arch, p.Path, r.Why, r.Console)
		}
		if strings.Contains(r.Console, "no tests to run") {
			t.Errorf("%s: the examples did not run:\n%s", arch, r.Console)
		}
	}
}

// toolchain returns the GOOS=tamago go binary make test gives the tests
// (TAMAGO_GO; missing: a failure under CI) and the module's root.
func toolchain(t *testing.T) (goBin, mod string) {
	goBin = os.Getenv("TAMAGO_GO")
	if goBin == "" {
		qemu.Missing(t, "TAMAGO_GO is not set (make test sets it: the GOOS=tamago toolchain)")
	}
	_, file, _, _ := runtime.Caller(0)
	return goBin, filepath.Join(filepath.Dir(file), "..", "..")
}
