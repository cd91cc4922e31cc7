package gencheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeT records failures instead of failing the test.
type fakeT struct {
	testing.TB
	errs []string
}

func (f *fakeT) Helper()                   {}
func (f *fakeT) Errorf(s string, a ...any) { f.errs = append(f.errs, s) }

// TestUpToDate: a generator's output equal to the file passes, a different
// one is reported stale.
func TestUpToDate(t *testing.T) {
	dir := t.TempDir()
	gen := "//go:build ignore\n\npackage main\n\nimport \"os\"\n\nfunc main() { os.WriteFile(os.Args[1]+\"/out.txt\", []byte(\"v2\\n\"), 0o644) }\n"
	if err := os.WriteFile(filepath.Join(dir, "gen.go"), []byte(gen), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(tmp string) []string { return []string{"run", "gen.go", tmp} }
	for _, c := range []struct {
		content string
		stale   bool
	}{{"v2\n", false}, {"v1\n", true}} {
		if err := os.WriteFile(filepath.Join(dir, "out.txt"), []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		f := &fakeT{TB: t}
		UpToDate(f, dir, args, "out.txt")
		if got := len(f.errs) == 1 && strings.Contains(f.errs[0], "stale"); got != c.stale {
			t.Errorf("file %q: stale reported %v (%q), want %v", c.content, got, f.errs, c.stale)
		}
	}
}
