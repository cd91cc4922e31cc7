// Package gencheck checks that generated files are current: what their
// generator writes now, byte for byte (the tests of the packages that
// generate assembly and headers with go generate use it).
package gencheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// UpToDate runs the go command with args(tmp) in dir, tmp being a new
// empty directory the generator is told to write into, and fails t for
// each of files (names relative to dir) whose content differs from the
// file of the same base name the generator wrote in tmp.
func UpToDate(t testing.TB, dir string, args func(tmp string) []string, files ...string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command(goTool, args(tmp)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v in %s: %v\n%s", cmd.Args[1:], dir, err, b)
	}
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join(tmp, filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate in %s", filepath.Join(dir, f), dir)
		}
	}
}
