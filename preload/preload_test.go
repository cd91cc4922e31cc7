package preload

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestTarRoundTrip(t *testing.T) {
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "testdata", "fuzz", "FuzzX"), 0o755))
	must(os.WriteFile(filepath.Join(src, "a.go"), []byte("package a\n"), 0o644))
	must(os.WriteFile(filepath.Join(src, "testdata", "fuzz", "FuzzX", "seed"), []byte("go test fuzz v1\n"), 0o600))
	must(os.WriteFile(filepath.Join(src, "skip.txt"), []byte("no"), 0o644))
	var buf bytes.Buffer
	must(TarDirs(&buf, Dir{Root: src, Prefix: "pkg/a", Skip: func(rel string, d fs.DirEntry) bool { return rel == "skip.txt" }}))
	var blob bytes.Buffer
	must(WriteBlob(&blob, buf.Bytes()))
	n, err := Length(blob.Bytes())
	must(err)
	if n != uint64(buf.Len()) || blob.Len() != HeaderSize+buf.Len() {
		t.Fatalf("blob length %d (header %d), archive %d", blob.Len(), n, buf.Len())
	}
	if _, err := Length([]byte("PGSNTAR0\x01\x00\x00\x00\x00\x00\x00\x00")); err != ErrNoBlob {
		t.Fatalf("bad magic: %v, want ErrNoBlob", err)
	}
	dst := t.TempDir()
	must(Tar(bytes.NewReader(blob.Bytes()[HeaderSize:]), dst))
	b, err := os.ReadFile(filepath.Join(dst, "pkg/a/testdata/fuzz/FuzzX/seed"))
	must(err)
	if string(b) != "go test fuzz v1\n" {
		t.Fatalf("seed = %q", b)
	}
	st, err := os.Stat(filepath.Join(dst, "pkg/a/testdata/fuzz/FuzzX/seed"))
	must(err)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("seed mode %v, want 0600", st.Mode())
	}
	if _, err := os.Stat(filepath.Join(dst, "pkg/a/skip.txt")); !os.IsNotExist(err) {
		t.Errorf("skip.txt: %v, want not exist", err)
	}
}

func TestTarRejectsEscape(t *testing.T) {
	var buf bytes.Buffer
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := TarDirs(&buf, Dir{Root: src, Prefix: "../up"}); err != nil {
		t.Fatal(err)
	}
	if err := Tar(&buf, t.TempDir()); err == nil {
		t.Fatal("an archive with ../ names was extracted")
	}
}
