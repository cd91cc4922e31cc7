package kernel

import (
	"path/filepath"
	"testing"

	"github.com/pagesnap/pagesnap/internal/gencheck"
)

// TestGeneratedUpToDate: fault_arm64.h and probe/probe_arm64.s are what
// their generators make now (run go generate ./kernel/... after changing
// a generator or abortFrame).
func TestGeneratedUpToDate(t *testing.T) {
	for gen, file := range map[string]string{"gen_fault_arm64.go": "fault_arm64.h", "probe/gen_probe_arm64.go": "probe/probe_arm64.s"} {
		gencheck.UpToDate(t, filepath.Dir(gen), func(tmp string) []string {
			return []string{"run", filepath.Base(gen), "-o", filepath.Join(tmp, filepath.Base(file))}
		}, filepath.Base(file))
	}
}
