package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/elfcore"
	"github.com/pagesnap/pagesnap/internal/simimage"
	"github.com/pagesnap/pagesnap/snapshot"
)

// ranges captured by the test images.
var testRanges = []snapshot.Range{{Base: 0x1000, Size: 0x7000}, {Base: 0x100000, Size: 0x4000}}

// images returns two complete images of one simulated machine, B taken
// after writing to pages 0x3000 and 0x101000 (3 words), and the machine.
func images(t *testing.T) (a, b []byte) {
	t.Helper()
	m, err := simimage.New(testRanges...)
	if err != nil {
		t.Fatal(err)
	}
	m.Excluded = []snapshot.Exclusion{{Range: snapshot.Range{Base: 0, Size: 0x1000}, Reason: snapshot.ReasonPageZero},
		{Range: snapshot.Range{Base: 0x8000, Size: 0x8000}, Reason: snapshot.ReasonReserved}}
	for _, r := range testRanges {
		for pa := r.Base; pa < r.End(); pa += 8 {
			m.Store64(pa, fill(pa))
		}
	}
	if a, err = m.Snapshot(1111); err != nil {
		t.Fatal(err)
	}
	m.Store64(0x3008, 1)
	m.Store64(0x3ff8, 2)
	m.Store64(0x101000, 3)
	if b, err = m.Snapshot(2222); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pagesnap runs the command line and returns status, stdout, stderr.
func pagesnap(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &env{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func want(t *testing.T, args []string, code int, stdoutHas, stderr string) string {
	t.Helper()
	c, o, e := pagesnap(args...)
	if c != code || !strings.Contains(o, stdoutHas) || (stderr != "*" && e != stderr) {
		t.Fatalf("pagesnap %s: status %d, want %d\nstdout:\n%s\nstderr:\n%q\nwant stdout containing %q, stderr %q",
			strings.Join(args, " "), c, code, o, e, stdoutHas, stderr)
	}
	return o
}

func TestInfo(t *testing.T) {
	a, _ := images(t)
	p := write(t, "a.img", a)
	o := want(t, []string{"info", p}, exitOK, "", "")
	for _, s := range []string{
		fmt.Sprintf("image:     %s, at offset 0 (%d bytes of %d)\n", p, len(a), len(a)),
		"format:    version 2, SHA-256 page hashes, page size 4096\n",
		"state:     complete\n",
		"instant:   1111 (the kernel's clock at the snapshot instant)\n",
		"pages:     11 captured, 11 copied\n",
		"captured:  2 ranges, 44 KiB\n",
		"  0x000000001000-0x000000008000     28 KiB  7 pages\n",
		"  0x000000100000-0x000000104000     16 KiB  4 pages\n",
		"excluded:  3 ranges (RAM left out of the image, and why)\n",
		"  0x000000000000-0x000000001000      4 KiB  page zero\n",
		"  0x000000008000-0x000000010000     32 KiB  reserved\n",
		"  0x000005000000-0x00000500f000     60 KiB  storage\n",
		"root:      ",
	} {
		if !strings.Contains(o, s) {
			t.Errorf("info output lacks %q:\n%s", s, o)
		}
	}
}

func TestVerify(t *testing.T) {
	a, _ := images(t)
	p := write(t, "a.img", a)
	want(t, []string{"verify", p}, exitOK, "verified: 11 pages of 4096 bytes, state complete, every page hash and the root hash match\nroot: ", "")

	// One flipped bit in the data of page 0x3000 (index 2).
	im, _ := snapshot.ReadImage(bytes.NewReader(a), int64(len(a)))
	bad := bytes.Clone(a)
	bad[im.Layout.DataOff+2*4096+100] ^= 4
	pb := write(t, "bad.img", bad)
	want(t, []string{"verify", pb}, exitFound, "", "pagesnap: "+pb+": does not verify: snapshot: page hash mismatch (page 0x3000)\n")

	// An image whose capture did not finish: state capturing.
	inc := bytes.Clone(a)
	binary.LittleEndian.PutUint32(inc[28:], uint32(snapshot.StateCapturing))
	pi := write(t, "inc.img", inc)
	want(t, []string{"verify", pi}, exitFound, "", "pagesnap: "+pi+": does not verify: snapshot: snapshot incomplete: header state capturing\n")
}

// TestProgress: -progress draws the bar on standard error.
func TestProgress(t *testing.T) {
	a, _ := images(t)
	p := write(t, "a.img", a)
	c, _, e := pagesnap("verify", "-progress", p)
	if c != exitOK || !strings.Contains(e, "\rverify [") || !strings.Contains(e, "] 100% ") {
		t.Fatalf("status %d, stderr %q", c, e)
	}
	if c, _, e := pagesnap("verify", p); c != exitOK || e != "" {
		t.Fatalf("without -progress and no terminal: status %d, stderr %q", c, e)
	}
}

// TestBadInput: truncated, foreign and missing files, with exact messages.
func TestBadInput(t *testing.T) {
	a, _ := images(t)
	tr := write(t, "cut.img", a[:len(a)-4096])
	want(t, []string{"info", tr}, exitInput, "", fmt.Sprintf(
		"pagesnap: %s: snapshot: image shorter than its layout: %d bytes, layout needs %d (the file ends before the image does: an interrupted copy, or the wrong region saved)\n",
		tr, len(a)-4096, len(a)))
	short := write(t, "short.img", a[:100])
	want(t, []string{"verify", short}, exitInput, "", "pagesnap: "+short+": snapshot: image shorter than its layout: 100 bytes (the file ends before the image does: an interrupted copy, or the wrong region saved)\n")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(self)
	want(t, []string{"info", self}, exitInput, "", fmt.Sprintf(
		"pagesnap: %s: not a pagesnap image: no \"PAGESNAP\" header at offset 0 or at any 4096-byte boundary of its %d bytes\n", self, st.Size()))
	empty := write(t, "empty", nil)
	want(t, []string{"info", empty}, exitInput, "", "pagesnap: "+empty+": not a pagesnap image: no \"PAGESNAP\" header at offset 0 or at any 4096-byte boundary of its 0 bytes\n")

	v2 := bytes.Clone(a)
	v2[8] = 99
	pv := write(t, "v99.img", v2)
	want(t, []string{"info", pv}, exitInput, "", "pagesnap: "+pv+": snapshot: unsupported format version 99 (this reader knows only version 2) (written by another pagesnap version)\n")

	missing := filepath.Join(t.TempDir(), "nope")
	want(t, []string{"verify", missing}, exitInput, "", "pagesnap: open "+missing+": no such file or directory\n")
}

// TestRAMDump: the image is found inside a dump of RAM, past copies of its
// header whose copy maps are not complete.
func TestRAMDump(t *testing.T) {
	a, _ := images(t)
	dump := make([]byte, 0x40000+len(a)+0x3000)
	for i := range dump {
		dump[i] = byte(i * 7)
	}
	// A buffer that once held the header (copy map behind it: garbage).
	im, _ := snapshot.ReadImage(bytes.NewReader(a), int64(len(a)))
	copy(dump[0x9000:], a[:im.Layout.MapOff])
	copy(dump[0x40000:], a)
	p := write(t, "ram.bin", dump)
	want(t, []string{"info", p}, exitOK, "image:     "+p+", at offset 0x40000 of a RAM dump (found by its header)", "")
	want(t, []string{"verify", p}, exitOK, "verified: 11 pages", "")
	want(t, []string{"info", "-offset", "0x40000", p}, exitOK, "at offset 0x40000 (-offset)", "")
	want(t, []string{"info", "-offset", "0x9000", p}, exitOK, "pages:     11 captured, ", "")
	want(t, []string{"info", "-offset", "0x100000", p}, exitUsage, "",
		fmt.Sprintf("pagesnap: %s: -offset 0x100000 is beyond its end (%d bytes)\n", p, len(dump)))
	want(t, []string{"info", "-offset", "0x1000", p}, exitInput, "", "pagesnap: "+p+" at offset 0x1000: snapshot: bad magic (not a pagesnap image)\n")

	// Two complete images: which one is meant is not guessed.
	two := append(bytes.Clone(dump), make([]byte, 0x1000)...)
	two = append(two, a...)
	p2 := write(t, "ram2.bin", two)
	off2 := len(dump) + 0x1000
	want(t, []string{"info", p2}, exitInput, "", fmt.Sprintf(
		"pagesnap: %s: RAM dump: 3 pagesnap headers parse, at offsets 0x9000 (complete), 0x40000 (complete), %#x (complete): choose one with -offset\n", p2, off2))
	want(t, []string{"info", "-offset", fmt.Sprint(off2), p2}, exitOK, "state:     complete", "")

	// A dump that holds only a header whose image runs past its end.
	cut := bytes.Clone(dump[:0x40000+0x3000])
	pc := write(t, "ramcut.bin", cut[0x10000:])
	want(t, []string{"info", pc}, exitInput, "", fmt.Sprintf(
		"pagesnap: %s: RAM dump: the \"PAGESNAP\" header at offset 0x30000 is unusable: snapshot: image shorter than its layout: 12288 bytes, layout needs %d (the file ends before the image does: an interrupted copy, or the wrong region saved)\n",
		pc, len(a)))
}

func TestExtract(t *testing.T) {
	a, _ := images(t)
	p := write(t, "a.img", a)
	o := want(t, []string{"extract", p, "0x3abc"}, exitOK, "", "")
	if len(o) != 4096 || binary.LittleEndian.Uint64([]byte(o[8:])) != fill(0x3008) {
		t.Fatalf("page 0x3000: %d bytes, word 1 %#x", len(o), binary.LittleEndian.Uint64([]byte(o[8:])))
	}
	out := filepath.Join(t.TempDir(), "page.bin")
	want(t, []string{"extract", "-o", out, p, "0x100000"}, exitOK, "", "")
	if b, err := os.ReadFile(out); err != nil || len(b) != 4096 || binary.LittleEndian.Uint64(b) != fill(0x100000) {
		t.Fatalf("page 0x100000 in %s: %v", out, err)
	}
	want(t, []string{"extract", p, "0x20000"}, exitMissing, "",
		"pagesnap: "+p+": 0x20000: not in a captured range (captured: [0x1000, 0x8000) [0x100000, 0x104000))\n")
	want(t, []string{"extract", p, "0x9000"}, exitMissing, "",
		"pagesnap: "+p+": 0x9000: not captured: in excluded range [0x8000, 0x10000) (reserved)\n")
	im, _ := snapshot.ReadImage(bytes.NewReader(a), int64(len(a)))
	inc := bytes.Clone(a)
	inc[im.Layout.MapOff] &^= 1 << 2 // page 0x3000 not copied
	binary.LittleEndian.PutUint32(inc[28:], uint32(snapshot.StateAborted))
	pi := write(t, "inc.img", inc)
	want(t, []string{"extract", pi, "0x3000"}, exitMissing, "", "pagesnap: "+pi+": 0x3000: page 0x3000 was not copied (the snapshot is aborted)\n")
	want(t, []string{"extract", p, "zz"}, exitUsage, "", "pagesnap: bad address \"zz\": want a number (decimal or 0x hexadecimal)\n")
	want(t, []string{"extract", "-o", "/nonexistent/dir/x", p, "0x1000"}, exitOutput, "", "pagesnap: open /nonexistent/dir/x: no such file or directory\n")
}

func TestDiff(t *testing.T) {
	a, b := images(t)
	pa, pb := write(t, "a.img", a), write(t, "b.img", b)
	o := want(t, []string{"diff", pa, pa}, exitOK, "", "")
	if !strings.HasPrefix(o, "0 pages differ (11 compared;") {
		t.Fatalf("diff of an image with itself:\n%s", o)
	}
	o = want(t, []string{"diff", pa, pb}, exitFound, "", "")
	wantOut := fmt.Sprintf("0x000000003000  %4d bytes differ, first at +0x008  unknown\n", 2*8-countSame(0x3008, 1)-countSame(0x3ff8, 2)) +
		fmt.Sprintf("0x000000101000  %4d bytes differ, first at +0x000  unknown\n", 8-countSame(0x101000, 3)) +
		fmt.Sprintf("2 pages differ (11 compared; A %s, instant 1111; B %s, instant 2222)\n", pa, pb)
	if o != wantOut {
		t.Fatalf("diff A B:\n%s\nwant:\n%s", o, wantOut)
	}
	o = want(t, []string{"diff", "-summary", pa, pb}, exitFound, "", "")
	if strings.Count(o, "\n") != 1 {
		t.Fatalf("-summary:\n%s", o)
	}

	// Images of different ranges: pages captured in one only are listed.
	m, _ := simimage.New(snapshot.Range{Base: 0x1000, Size: 0x2000})
	c, _ := m.Snapshot(3)
	pc := write(t, "c.img", c)
	o = want(t, []string{"diff", pc, pa}, exitFound, "0x000000003000  only in B", "")
	if !strings.Contains(o, "0x000000103000  only in B") || strings.Contains(o, "only in A") {
		t.Fatalf("diff of different ranges:\n%s", o)
	}
}

// fill is the test pattern: the word at pa.
func fill(pa uint64) uint64 { return pa*0x9e3779b97f4a7c15 + 1 }

// countSame counts the bytes of the word at pa that the test's store of v
// left unchanged.
func countSame(pa, v uint64) int {
	old := fill(pa)
	n := 0
	for i := 0; i < 8; i++ {
		if byte(old>>(8*i)) == byte(v>>(8*i)) {
			n++
		}
	}
	return n
}

func TestELF(t *testing.T) {
	a, _ := images(t)
	p := write(t, "a.img", a)
	core := filepath.Join(t.TempDir(), "core")
	want(t, []string{"elf", "-arch", "arm64", "-o", core, p}, exitOK, core+": ELF core, EM_AARCH64, 2 PT_LOAD (44 KiB), instant 1111, format version 2, ", "")
	f, err := elf.Open(core)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := elfcore.ReadInfo(f)
	if err != nil || in.Instant != 1111 || in.Version != snapshot.Version || f.Machine != elf.EM_AARCH64 {
		t.Fatalf("core note %+v, machine %v: %v", in, f.Machine, err)
	}
	n := 0
	for _, pr := range f.Progs {
		if pr.Type == elf.PT_LOAD {
			if pr.Vaddr != testRanges[n].Base || pr.Filesz != testRanges[n].Size {
				t.Fatalf("PT_LOAD %d: %+v", n, pr.ProgHeader)
			}
			n++
		}
	}
	self, _ := os.Executable()
	want(t, []string{"elf", "-kernel", self, "-o", core, p}, exitOK, "ELF core, EM_X86_64", "*")

	want(t, []string{"elf", "-arch", "amd64", p}, exitUsage, "", "pagesnap: elf: -o CORE is required\n")
	want(t, []string{"elf", "-o", core, p}, exitUsage, "", "pagesnap: elf: give -kernel ELF or -arch amd64|arm64 (the core's machine)\n")
	want(t, []string{"elf", "-arch", "mips", "-o", core, p}, exitUsage, "", "pagesnap: elf: unknown -arch \"mips\" (amd64 or arm64)\n")

	im, _ := snapshot.ReadImage(bytes.NewReader(a), int64(len(a)))
	inc := bytes.Clone(a)
	inc[im.Layout.MapOff] &^= 1 << 2
	pi := write(t, "inc.img", inc)
	want(t, []string{"elf", "-arch", "amd64", "-o", core, pi}, exitMissing, "",
		"pagesnap: "+pi+": elfcore: the snapshot is not complete: header state complete, 10 of 11 pages copied\n")
}

func TestUsage(t *testing.T) {
	want(t, nil, exitUsage, "", "*")
	want(t, []string{"frob"}, exitUsage, "", "pagesnap: unknown command \"frob\" (try pagesnap help)\n")
	want(t, []string{"info"}, exitUsage, "", "pagesnap info: want 1 arguments, got 0\nusage: pagesnap info [-offset N] IMAGE (pagesnap help info)\n")
	want(t, []string{"info", "-x", "f"}, exitUsage, "", "pagesnap info: flag provided but not defined: -x\nusage: pagesnap info [-offset N] IMAGE (pagesnap help info)\n")
	want(t, []string{"help"}, exitOK, "commands:\n  diff ", "")
	for _, c := range commands {
		o := want(t, []string{"help", c.name}, exitOK, "usage: pagesnap "+c.name, "")
		if !strings.Contains(o, "examples:\n  pagesnap "+c.name) || !strings.Contains(o, "exit status:") {
			t.Errorf("help %s lacks examples or exit statuses:\n%s", c.name, o)
		}
		want(t, []string{c.name, "-h"}, exitOK, "usage: pagesnap "+c.name, "")
	}
}
