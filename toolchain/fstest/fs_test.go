// Package fstest checks the GOOS=tamago in-memory file system
// (toolchain/overlay/src/syscall/fs_tamago.go) on the host: the test
// copies that file into a temporary package with the few syscall
// definitions it uses (shim.go.txt: the js-family values of the port) and
// runs memfs_test.go.txt against it with the host's go command. The
// guest runs package preload's tamago tests over the real thing.
package fstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMemFSOnHost(t *testing.T) {
	src, err := os.ReadFile("../overlay/src/syscall/fs_tamago.go")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "//go:build tamago\n", "", 1)
	s = strings.Replace(s, "\npackage syscall\n", "\npackage memfs\n", 1)
	// The two functions package runtime provides: the shim defines them.
	for _, decl := range []string{"func now() (sec int64, nsec int32)\n", "func consoleWrite(b []byte)\n"} {
		if !strings.Contains(s, decl) {
			t.Fatalf("fs_tamago.go no longer declares %q: update the shim", decl)
		}
		s = strings.Replace(s, decl, "", 1)
	}
	dir := t.TempDir()
	files := map[string]string{"go.mod": "module memfs\n\ngo 1.24\n", "fs.go": s}
	for name, from := range map[string]string{"shim.go": "shim.go.txt", "memfs_test.go": "memfs_test.go.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", from))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-count=1", "-race", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
}
