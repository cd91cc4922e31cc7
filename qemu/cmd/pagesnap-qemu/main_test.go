package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu/internal/imagetest"
	"github.com/pagesnap/pagesnap/qemu/internal/testguest"
	"github.com/pagesnap/pagesnap/snapshot"
)

func runCmd(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	rc := run(args, &o, &e)
	return rc, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	if rc, _, e := runCmd(); rc != 2 || !strings.Contains(e, "commands:") {
		t.Fatalf("no args: %d %q", rc, e)
	}
	if rc, _, e := runCmd("frobnicate"); rc != 2 || !strings.Contains(e, `unknown command "frobnicate"`) {
		t.Fatalf("%d %q", rc, e)
	}
	for _, c := range []string{"run", "check", "verify", "boot"} {
		if rc, _, e := runCmd(c, "-h"); rc != 2 || !strings.Contains(e, "usage: pagesnap-qemu "+c) {
			t.Errorf("%s -h: %d %q", c, rc, e)
		}
	}
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckAndRun(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a-pass.yaml", `name: exits 9
arch: amd64
memory: 16M
kernel: testguest
steps:
  - expect: "pagesnap test guest ready"
  - write: {addr: cmd, u32: 9}
  - exit: {code: 9}
expect: ok
`)
	write(t, dir, "b-skip.yaml", `arch: amd64
kernel: ${PAGESNAP_TEST_UNSET_KERNEL}
steps:
  - expect: "ready"
expect: ok
`)
	if rc, o, _ := runCmd("check", dir); rc != 0 || !strings.Contains(o, "a-pass.yaml: ok: exits 9, 3 steps, expect ok") {
		t.Fatalf("check: %d\n%s", rc, o)
	}
	rc, o, _ := runCmd("run", dir)
	if rc != 0 || !strings.Contains(o, "--- PASS") || !strings.Contains(o, "--- SKIP") || !strings.HasSuffix(o, "1 passed, 0 failed, 1 skipped\n") {
		t.Fatalf("run: %d\n%s", rc, o)
	}
	if rc, o, _ := runCmd("run", "-require-kernel", dir); rc != 1 || !strings.HasSuffix(o, "1 passed, 1 failed, 0 skipped\n") {
		t.Fatalf("run -require-kernel: %d\n%s", rc, o)
	}
	// A script whose expectation is wrong fails the run.
	bad := write(t, t.TempDir(), "wrong.yaml", `arch: amd64
memory: 16M
kernel: testguest
steps:
  - write: {addr: cmd, u32: 9}
  - exit: {code: 8, timeout: 20s}
expect: ok
`)
	if rc, o, _ := runCmd("run", bad); rc != 1 || !strings.Contains(o, "want isa-debug-exit 8") || !strings.HasSuffix(o, "0 passed, 1 failed, 0 skipped\n") {
		t.Fatalf("wrong expectation: %d\n%s", rc, o)
	}
	broken := write(t, t.TempDir(), "broken.yaml", "arch: amd64\nkernel: testguest\nexpect: ok\nsteps:\n  - nap: 1s\n")
	if rc, o, _ := runCmd("check", broken); rc != 1 || !strings.Contains(o, "line 5: field nap not found") {
		t.Fatalf("check broken: %d\n%s", rc, o)
	}
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	mem := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range mem {
		mem[i] = byte(r.Uint32())
	}
	rs := []snapshot.Range{{Base: 0x10000, Size: 0x3000}}
	img, err := imagetest.Encode(mem, 0, 4096, rs, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := write(t, dir, "ref.bin", string(mem))
	im := write(t, dir, "img.bin", string(img))
	rc, o, e := runCmd("verify", "-image", im, "-ref", ref)
	if rc != 0 || !strings.HasPrefix(o, "VERIFIED: 3 pages of 4096 bytes, 3 match, 0 mismatch") {
		t.Fatalf("%d %q %q", rc, o, e)
	}
	// The storage inside a RAM image, with the reference differing in one
	// byte of a DMA page.
	ram := append([]byte(nil), mem...)
	copy(ram[0x80000:], img)
	ramPath := write(t, dir, "ram.bin", string(ram))
	mem[0x11005] ^= 0x10
	ref2 := write(t, dir, "ref2.bin", string(mem))
	rc, o, _ = runCmd("verify", "-image", ramPath, "-image-addr", "0x80000", "-ref", ref2, "-region", "dma:ring:0x11000:0x1000")
	if rc != 1 || !strings.Contains(o, "FAILED: 3 pages of 4096 bytes, 2 match, 1 mismatch") ||
		!strings.Contains(o, "page 0x11000 DMA (ring): first differing byte at 0x11005 (offset 0x5)") {
		t.Fatalf("%d\n%s", rc, o)
	}
	if rc, _, e := runCmd("verify", "-image", ref, "-ref", ref); rc != 1 || !strings.Contains(e, "bad magic") {
		t.Fatalf("not an image: %d %q", rc, e)
	}
	if rc, _, _ := runCmd("verify", "-image", im, "-ref", ref, "-region", "bogus"); rc != 2 {
		t.Fatalf("bad region flag: %d", rc)
	}
}

func TestBootCommand(t *testing.T) {
	g, err := testguest.Build(5)
	if err != nil {
		t.Fatal(err)
	}
	k := filepath.Join(t.TempDir(), "g.elf")
	if err := g.WriteFile(k); err != nil {
		t.Fatal(err)
	}
	// The guest prints its banner and exits with isa-debug-exit 5 (QEMU's
	// status (5<<1)|1 = 11): 5 is the command's status.
	if rc, o, e := runCmd("boot", "-kernel", k, "-m", "16"); rc != 5 || o != testguest.Banner+"\n" || !strings.Contains(e, "isa-debug-exit 5 (QEMU exit status 11)") {
		t.Fatalf("%d %q %q", rc, o, e)
	}
	if rc, _, e := runCmd("boot", "-kernel", k, "-m", "16", "-expect", "guest ready$"); rc != 0 || !strings.Contains(e, "matched") {
		t.Fatalf("%d %q", rc, e)
	}
	if rc, _, e := runCmd("boot", "-kernel", k, "-m", "16", "-expect", "never", "-timeout", "1s"); rc != 1 || !strings.Contains(e, "exit status 11") {
		t.Fatalf("%d %q", rc, e)
	}
	if rc, _, e := runCmd("boot", "-kernel", "/nonexistent.elf"); rc != 1 || !strings.Contains(e, "kernel image") {
		t.Fatalf("%d %q", rc, e)
	}
}
