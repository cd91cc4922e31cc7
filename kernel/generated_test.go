package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate: fault_arm64.h is what gen_fault_arm64.go makes
// of abortFrame now (run go generate ./kernel after changing either).
func TestGeneratedUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "fault_arm64.h")
	if b, err := exec.Command(goTool, "run", "gen_fault_arm64.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen_fault_arm64.go: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("fault_arm64.h")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("fault_arm64.h is stale: run go generate ./kernel")
	}
}
