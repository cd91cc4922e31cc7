package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGCEBootSector assembles gceboot.S and checks the parameters and the
// partition table BootSector writes, byte for byte, with the code before
// them untouched.
func TestGCEBootSector(t *testing.T) {
	boot, err := AssembleBootSector()
	if err != nil {
		t.Fatal(err)
	}
	k := &FlatKernel{Load: 0x1000f000, Entry: 0x10085a40, Image: make([]byte, 3*sectorSize+1), BSSStart: 0x10231c00, BSSBytes: 0x2014720}
	s := k.BootSector(boot)
	if !bytes.Equal(s[:bootParams], boot[:bootParams]) || s[510] != 0x55 || s[511] != 0xaa {
		t.Fatal("BootSector changed the code or the signature")
	}
	want := []uint32{1, 4, 0x1000f000, 0x10085a40, 0x10231c00, 0x2014720}
	for i, w := range want {
		if got := binary.LittleEndian.Uint32(s[bootParams+4*i:]); got != w {
			t.Errorf("parameter %d = %#x, want %#x", i, got, w)
		}
	}
	wantPart := []byte{0x80, 0xfe, 0xff, 0xff, 0xda, 0xfe, 0xff, 0xff, 1, 0, 0, 0, 4, 0, 0, 0}
	if got := s[partitionTable : partitionTable+16]; !bytes.Equal(got, wantPart) {
		t.Errorf("partition entry % x, want % x", got, wantPart)
	}
	if !bytes.Equal(s[partitionTable+16:510], make([]byte, 510-partitionTable-16)) {
		t.Error("partition entries 2-4 are not empty")
	}
}

// TestFlatten flattens this test binary (an x86-64 ELF on amd64 hosts)
// and checks every PT_LOAD segment's bytes at its offset from the lowest
// address, and the last segment's .bss.
func TestFlatten(t *testing.T) {
	f, err := elf.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Skipf("the test binary is %v %v, not a static x86-64 executable", f.Machine, f.Type)
	}
	k, err := Flatten(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			loads = append(loads, p)
		}
	}
	last := loads[len(loads)-1]
	if uint64(k.Load) != loads[0].Paddr || uint64(k.Entry) != f.Entry || uint64(k.BSSStart) != last.Paddr+last.Filesz ||
		uint64(k.BSSBytes) != last.Memsz-last.Filesz || uint64(len(k.Image)) != last.Paddr+last.Filesz-loads[0].Paddr {
		t.Fatalf("Flatten = load %#x entry %#x bss %#x+%#x len %#x", k.Load, k.Entry, k.BSSStart, k.BSSBytes, len(k.Image))
	}
	for _, p := range loads {
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		off := p.Paddr - uint64(k.Load)
		if !bytes.Equal(k.Image[off:off+p.Filesz], b) {
			t.Errorf("segment at %#x differs", p.Paddr)
		}
	}
}

// TestGCEImage writes the GCE image of this test binary and checks that
// disk.raw is 1 GiB, starts with the boot sector and the flat kernel, and
// that the tar.gz holds disk.raw in GNU format (GCE's import needs it).
func TestGCEImage(t *testing.T) {
	f, err := elf.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		f.Close()
		t.Skipf("the test binary is %v %v, not a static x86-64 executable", f.Machine, f.Type)
	}
	f.Close()
	dir := t.TempDir()
	disk, tgz, err := GCEImage(os.Args[0], dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(disk)
	if err != nil || st.Size() != GCEDiskSize {
		t.Fatalf("disk.raw: %v %v, want %d bytes", st, err, GCEDiskSize)
	}
	k, _ := Flatten(os.Args[0])
	df, err := os.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	d := make([]byte, sectorSize+len(k.Image))
	if _, err := df.ReadAt(d, 0); err != nil {
		t.Fatal(err)
	}
	boot, _ := AssembleBootSector()
	if !bytes.Equal(d[:sectorSize], k.BootSector(boot)) || !bytes.Equal(d[sectorSize:sectorSize+len(k.Image)], k.Image) {
		t.Fatal("disk.raw does not start with the boot sector and the flat kernel")
	}
	out, err := exec.Command("tar", "-tvzf", tgz).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(" disk.raw\n")) || !bytes.Contains(out, []byte("1073741824")) {
		t.Fatalf("tar -tvzf %s: %v\n%s", filepath.Base(tgz), err, out)
	}
	// oldgnu: the header's magic is "ustar  \x00" (GNU), not POSIX "ustar\x0000".
	gz, err := exec.Command("sh", "-c", "gzip -dc "+tgz+" | head -c 512").Output()
	if err != nil || len(gz) != 512 || string(gz[257:265]) != "ustar  \x00" || gz[156] != 'S' {
		t.Fatalf("tar header: magic %q type %q, want GNU \"ustar  \\x00\" and a sparse entry 'S'", gz[257:265], gz[156])
	}
}
