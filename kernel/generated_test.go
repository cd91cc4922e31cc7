package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate: fault_arm64.h and probe/probe_arm64.s are what
// their generators make now (run go generate ./kernel/... after changing
// a generator or abortFrame).
func TestGeneratedUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	for gen, file := range map[string]string{"gen_fault_arm64.go": "fault_arm64.h", "probe/gen_probe_arm64.go": "probe/probe_arm64.s"} {
		out := filepath.Join(t.TempDir(), filepath.Base(file))
		cmd := exec.Command(goTool, "run", filepath.Base(gen), "-o", out)
		cmd.Dir = filepath.Dir(gen)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go run %s: %v\n%s", gen, err, b)
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./kernel", file)
		}
	}
}
