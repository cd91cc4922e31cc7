package early_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/preload"
	"github.com/pagesnap/pagesnap/preload/early"
)

func TestMagic(t *testing.T) {
	if early.Magic != preload.Magic {
		t.Fatalf("early.Magic %q, preload.Magic %q", early.Magic, preload.Magic)
	}
}

// TestExtract compares early's reader with package preload's archives,
// long names (a PAX path record) included.
func TestExtract(t *testing.T) {
	src := t.TempDir()
	long := filepath.Join(src, strings.Repeat("d", 90), strings.Repeat("e", 90))
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"a.txt": "a",
		filepath.Join(long, strings.Repeat("f", 120)): strings.Repeat("x", 1000),
		"testdata/empty": "",
	}
	for name, body := range files {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(src, name)
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := preload.TarDirs(&b, preload.Dir{Root: src, Prefix: "some/prefix"}); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := early.Extract(b.Bytes(), dst); err != "" {
		t.Fatal(err)
	}
	for name, body := range files {
		rel, _ := filepath.Rel(src, filepath.Join(src, name))
		if filepath.IsAbs(name) {
			rel, _ = filepath.Rel(src, name)
		}
		p := filepath.Join(dst, "some/prefix", rel)
		got, err := os.ReadFile(p)
		if err != nil || string(got) != body {
			t.Errorf("%s: %d bytes, %v", rel, len(got), err)
		}
		if st, err := os.Stat(p); err == nil && st.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v", rel, st.Mode())
		}
	}
	if err := early.Extract(b.Bytes()[:1024], dst); err == "" {
		t.Error("a truncated archive extracted without error")
	}
}
