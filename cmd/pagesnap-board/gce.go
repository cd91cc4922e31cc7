package main

import (
	"debug/elf"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// gceBootS is the boot sector's source: GNU as assembles it (the Go
// assembler cannot emit 16-bit code).
//
//go:embed gceboot.S
var gceBootS []byte

// The boot sector's layout (gceboot.S): its parameters at bootParams, the
// MBR partition table at 0x1be, the signature at 0x1fe.
const (
	sectorSize     = 512
	bootParams     = 0x1a0
	partitionTable = 0x1be
	// GCEDiskSize is disk.raw's size: GCE imports disks of whole GiB.
	GCEDiskSize = 1 << 30
)

// AssembleBootSector assembles gceboot.S with GNU as and ld (binutils)
// into the 512-byte sector, linked at 0x7c00.
func AssembleBootSector() ([]byte, error) {
	dir, err := os.MkdirTemp("", "gceboot")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src, obj, bin := filepath.Join(dir, "gceboot.S"), filepath.Join(dir, "gceboot.o"), filepath.Join(dir, "gceboot.bin")
	if err := os.WriteFile(src, gceBootS, 0o644); err != nil {
		return nil, err
	}
	for _, c := range [][]string{
		{"as", "--32", "-o", obj, src},
		{"ld", "-m", "elf_i386", "-Ttext", "0x7c00", "-e", "_start", "--oformat", "binary", "-o", bin, obj},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("gce boot sector: %s: %v: %s (GNU binutils: make deps installs them)", c[0], err, out)
		}
	}
	b, err := os.ReadFile(bin)
	if err == nil && (len(b) != sectorSize || b[510] != 0x55 || b[511] != 0xaa) {
		err = fmt.Errorf("gce boot sector: %d bytes, not a 512-byte boot sector", len(b))
	}
	return b, err
}

// FlatKernel is a kernel ELF flattened for gceboot: its PT_LOAD segments
// laid out from the lowest physical address (gaps and every .bss but the
// last segment's zeroed), and the last segment's .bss, which the loader
// zeroes.
type FlatKernel struct {
	Load, Entry        uint32
	Image              []byte
	BSSStart, BSSBytes uint32
}

// Flatten reads the kernel ELF at path.
func Flatten(path string) (*FlatKernel, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, errors.New("gce disk: not an x86-64 ELF kernel")
	}
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			if len(loads) > 0 && p.Paddr < loads[len(loads)-1].Paddr+loads[len(loads)-1].Memsz {
				return nil, errors.New("gce disk: PT_LOAD segments overlap or are not in address order")
			}
			loads = append(loads, p)
		}
	}
	if len(loads) == 0 {
		return nil, errors.New("gce disk: the ELF has no PT_LOAD segment")
	}
	last := loads[len(loads)-1]
	lo, end := loads[0].Paddr, last.Paddr+last.Memsz
	if end > 1<<32 || f.Entry >= 1<<32 {
		return nil, fmt.Errorf("gce disk: the kernel ends at %#x: gceboot loads below 4 GiB", end)
	}
	k := &FlatKernel{Load: uint32(lo), Entry: uint32(f.Entry), BSSStart: uint32(last.Paddr + last.Filesz), BSSBytes: uint32(last.Memsz - last.Filesz)}
	k.Image = make([]byte, last.Paddr+last.Filesz-lo)
	for _, p := range loads {
		if _, err := p.ReadAt(k.Image[p.Paddr-lo:p.Paddr-lo+p.Filesz], 0); err != nil {
			return nil, fmt.Errorf("gce disk: segment at %#x: %w", p.Paddr, err)
		}
	}
	return k, nil
}

// BootSector returns boot with gceboot's parameters for k (the kernel at
// sector 1) and an MBR partition table whose one active entry (type 0xda,
// non-file-system data) covers the kernel.
func (k *FlatKernel) BootSector(boot []byte) []byte {
	s := append([]byte(nil), boot...)
	sectors := uint32((len(k.Image) + sectorSize - 1) / sectorSize)
	le := binary.LittleEndian
	for i, v := range []uint32{1, sectors, k.Load, k.Entry, k.BSSStart, k.BSSBytes} {
		le.PutUint32(s[bootParams+4*i:], v)
	}
	p := s[partitionTable : partitionTable+16]
	copy(p, []byte{0x80, 0xfe, 0xff, 0xff, 0xda, 0xfe, 0xff, 0xff})
	le.PutUint32(p[8:], 1)
	le.PutUint32(p[12:], sectors)
	return s
}

// WriteGCEDisk writes disk.raw at path: the boot sector, then the flat
// kernel, as a sparse file of GCEDiskSize bytes.
func WriteGCEDisk(path string, boot []byte, k *FlatKernel) error {
	if len(k.Image)+sectorSize > GCEDiskSize {
		return errors.New("gce disk: the kernel does not fit the disk")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(k.BootSector(boot)); err == nil {
		_, err = f.Write(k.Image)
	}
	if err == nil {
		err = f.Truncate(GCEDiskSize)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// GCEImage writes disk.raw for the kernel ELF into dir and the .tar.gz GCE
// imports (GNU tar, oldgnu format, sparse), and returns both paths.
func GCEImage(kernel, dir string) (disk, tgz string, err error) {
	boot, err := AssembleBootSector()
	if err != nil {
		return "", "", err
	}
	k, err := Flatten(kernel)
	if err != nil {
		return "", "", err
	}
	disk, tgz = filepath.Join(dir, "disk.raw"), filepath.Join(dir, "pagesnap-gcp.tar.gz")
	if err := WriteGCEDisk(disk, boot, k); err != nil {
		return "", "", err
	}
	if out, err := exec.Command("tar", "--format=oldgnu", "-Sczf", tgz, "-C", dir, "disk.raw").CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("gce image: tar: %v: %s", err, out)
	}
	return disk, tgz, nil
}
