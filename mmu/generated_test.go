package mmu

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate: copy_tamago_amd64.s and copy_tamago_arm64.s are
// what mkcopy.go makes now (run go generate ./mmu after changing it).
func TestGeneratedUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if b, err := exec.Command(goTool, "run", "mkcopy.go", "-d", dir).CombinedOutput(); err != nil {
		t.Fatalf("go run mkcopy.go: %v\n%s", err, b)
	}
	for _, file := range []string{"copy_tamago_amd64.s", "copy_tamago_arm64.s"} {
		want, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./mmu", file)
		}
	}
}
