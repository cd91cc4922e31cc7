//go:build !tamago

package virt

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"github.com/pagesnap/pagesnap/qemu"
)

// fdtBuilder writes a flattened device tree (Devicetree Specification
// v0.4, chapter 5) for the reader's tests.
type fdtBuilder struct {
	structs, strings bytes.Buffer
	names            map[string]uint32
}

func (b *fdtBuilder) u32(v uint32) { binary.Write(&b.structs, binary.BigEndian, v) }

func (b *fdtBuilder) pad() {
	for b.structs.Len()%4 != 0 {
		b.structs.WriteByte(0)
	}
}

func (b *fdtBuilder) begin(name string) {
	b.u32(FDT_BEGIN_NODE)
	b.structs.WriteString(name)
	b.structs.WriteByte(0)
	b.pad()
}

func (b *fdtBuilder) end() { b.u32(FDT_END_NODE) }
func (b *fdtBuilder) nop() { b.u32(FDT_NOP) }

func (b *fdtBuilder) prop(name string, cells ...uint32) {
	var v bytes.Buffer
	for _, c := range cells {
		binary.Write(&v, binary.BigEndian, c)
	}
	b.propBytes(name, v.Bytes())
}

func (b *fdtBuilder) propBytes(name string, v []byte) {
	if b.names == nil {
		b.names = map[string]uint32{}
	}
	off, ok := b.names[name]
	if !ok {
		off = uint32(b.strings.Len())
		b.names[name] = off
		b.strings.WriteString(name)
		b.strings.WriteByte(0)
	}
	b.u32(FDT_PROP)
	b.u32(uint32(len(v)))
	b.u32(off)
	b.structs.Write(v)
	b.pad()
}

// blob lays out header, an empty memory reservation block, the structure
// block and the strings block.
func (b *fdtBuilder) blob() []byte {
	const rsvmap = fdtHeaderSize
	offStruct := uint32(rsvmap + 16)
	offStrings := offStruct + uint32(b.structs.Len())
	total := offStrings + uint32(b.strings.Len())
	var out bytes.Buffer
	for _, v := range []uint32{FDT_MAGIC, total, offStruct, offStrings, rsvmap, 17, 16, 0,
		uint32(b.strings.Len()), uint32(b.structs.Len())} {
		binary.Write(&out, binary.BigEndian, v)
	}
	out.Write(make([]byte, 16))
	out.Write(b.structs.Bytes())
	out.Write(b.strings.Bytes())
	return out.Bytes()
}

func parse(b []byte) (fdt, fdtError) {
	if len(b) == 0 {
		return fdt{}, fdtErrBounds
	}
	return parseFDT(unsafe.Pointer(&b[0]), uint32(len(b)))
}

func banksOf(t *testing.T, b []byte) ([]Range, fdtError) {
	t.Helper()
	f, err := parse(b)
	if err != fdtOK {
		return nil, err
	}
	var banks [maxBanks]Range
	n, err := f.memoryBanks(&banks)
	return banks[:n], err
}

// sample is a tree with one-cell addresses, two memory nodes (one with two
// banks and a zero-size entry), look-alike nodes that are not memory, and
// NOPs.
func sample() *fdtBuilder {
	b := &fdtBuilder{}
	b.begin("")
	b.nop()
	b.prop("#address-cells", 1)
	b.prop("#size-cells", 1)
	b.begin("memory-controller@1000")
	b.prop("reg", 0x1000, 0x100)
	b.end()
	b.begin("memory@40000000")
	b.prop("device_type", 0x6d656d6f, 0x72790000) // "memory\0\0"
	b.prop("reg", 0x40000000, 0x10000000, 0x60000000, 0, 0x80000000, 0x1000)
	b.end()
	b.begin("soc")
	b.begin("memory@0") // not a child of the root
	b.prop("reg", 0, 0x1000)
	b.end()
	b.end()
	b.nop()
	b.begin("memory")
	b.prop("reg", 0x90000000, 0x2000)
	b.end()
	b.begin("chosen")
	b.propBytes("stdout-path", []byte("/pl011@9000000\x00"))
	b.end()
	b.end()
	b.u32(FDT_END)
	return b
}

func TestFDTMemoryBanks(t *testing.T) {
	banks, err := banksOf(t, sample().blob())
	if err != fdtOK {
		t.Fatalf("memoryBanks: %v", err)
	}
	want := []Range{{0x40000000, 0x10000000}, {0x80000000, 0x1000}, {0x90000000, 0x2000}}
	if !slices.Equal(banks, want) {
		t.Fatalf("banks %x, want %x", banks, want)
	}
}

func TestFDTProperty(t *testing.T) {
	f, err := parse(sample().blob())
	if err != fdtOK {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		node, prop, want string
		found            bool
	}{
		{"chosen", "stdout-path", "/pl011@9000000", true},
		{"", "#address-cells", "\x00\x00\x00\x01", true},
		{"memory-controller@1000", "reg", "\x00\x00\x10\x00\x00\x00\x01\x00", true},
		{"chosen", "reg", "", false},
		{"memory@0", "reg", "", false}, // not a child of the root
		{"nosuch", "reg", "", false},
	} {
		v, found := f.property(tc.node, tc.prop)
		if found != tc.found || string(cstring(v)) != tc.want && string(v) != tc.want {
			t.Errorf("property(%q, %q) = %q, %v; want %q, %v", tc.node, tc.prop, v, found, tc.want, tc.found)
		}
	}
}

func TestFDTErrors(t *testing.T) {
	good := sample().blob()
	put := func(off int, v uint32) []byte {
		b := slices.Clone(good)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	structAt := int(binary.BigEndian.Uint32(good[fdtOffStruct:]))
	for _, tc := range []struct {
		name string
		blob []byte
		want fdtError
	}{
		{"magic", put(0, 0xd00dfeee), fdtErrMagic},
		{"version 16", put(fdtVersion, 16), fdtErrVersion},
		{"totalsize beyond the space", put(fdtTotalSize, uint32(len(good))+1), fdtErrBounds},
		{"struct block beyond totalsize", put(fdtSizeStruct, uint32(len(good))), fdtErrBounds},
		{"strings block beyond totalsize", put(fdtSizeStrings, uint32(len(good))), fdtErrBounds},
		{"shorter than a header", good[:fdtHeaderSize-1], fdtErrBounds},
		{"unknown token", put(structAt, 7), fdtErrStructure},
		{"block ends inside the root node", func() []byte {
			b := sample()
			b.structs.Truncate(b.structs.Len() - 8) // root's FDT_END_NODE, FDT_END
			return b.blob()
		}(), fdtErrStructure},
		{"property longer than the block", func() []byte {
			b := &fdtBuilder{}
			b.begin("")
			b.prop("#address-cells", 2)
			blob := b.blob()
			// the length word of the only property
			off := int(binary.BigEndian.Uint32(blob[fdtOffStruct:])) + 8
			binary.BigEndian.PutUint32(blob[off:], 1000)
			return blob
		}(), fdtErrStructure},
		{"reg not a whole number of cells", func() []byte {
			b := &fdtBuilder{}
			b.begin("")
			b.begin("memory@40000000")
			b.propBytes("reg", []byte{0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0})
			b.end()
			b.end()
			b.u32(FDT_END)
			return b.blob()
		}(), fdtErrStructure},
	} {
		if _, err := banksOf(t, tc.blob); err != tc.want {
			t.Errorf("%s: error %q (%d), want %q (%d)", tc.name, err, err, tc.want, tc.want)
		}
	}
}

func TestRuntimeRamSize(t *testing.T) {
	for _, tc := range []struct {
		banks []Range
		size  uint64
		err   fdtError
	}{
		{[]Range{{0x40000000, 1 << 30}}, 1<<30 - DTBMaxSize, fdtOK},
		{[]Range{{0x40000000, 128 << 20}}, DefaultRamSize, fdtOK},
		{[]Range{{0x40000000, 5 << 30}}, RamLimit - RamStart, fdtOK},
		{[]Range{{0x100000000, 1 << 30}, {0x40000000, 64 << 20}}, 63 << 20, fdtOK},
		{[]Range{{0x40000000, DTBMaxSize}}, 0, fdtErrNoMemory}, // RamStart not in RAM
		{[]Range{{0x80000000, 1 << 30}}, 0, fdtErrNoMemory},
		{nil, 0, fdtErrNoMemory},
	} {
		size, err := runtimeRamSize(tc.banks)
		if size != tc.size || err != tc.err {
			t.Errorf("runtimeRamSize(%x) = %#x, %q; want %#x, %q", tc.banks, size, err, tc.size, tc.err)
		}
	}
}

// TestFDTQEMU reads the device trees QEMU's virt machine passes
// (qemu-system-aarch64 -M virt,dumpdtb=...) for several RAM sizes.
func TestFDTQEMU(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-aarch64"); err != nil {
		qemu.Missing(t, "qemu-system-aarch64 is not installed (make deps installs it)")
	}
	for _, tc := range []struct {
		machine string
		mem     string
		bank    Range
		psci    string
	}{
		{"virt", "128M", Range{0x40000000, 128 << 20}, "hvc"},
		{"virt", "1G", Range{0x40000000, 1 << 30}, "hvc"},
		{"virt", "5G", Range{0x40000000, 5 << 30}, "hvc"},
		{"virt,virtualization=on", "1G", Range{0x40000000, 1 << 30}, "smc"},
	} {
		path := filepath.Join(t.TempDir(), "virt.dtb")
		cmd := exec.Command("qemu-system-aarch64", "-M", tc.machine+",dumpdtb="+path, "-cpu", "max",
			"-m", tc.mem, "-nodefaults", "-display", "none")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
		blob, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(blob) > DTBMaxSize {
			t.Errorf("%s -m %s: blob is %d bytes, more than DTBMaxSize", tc.machine, tc.mem, len(blob))
		}
		banks, ferr := banksOf(t, blob)
		if ferr != fdtOK || !slices.Equal(banks, []Range{tc.bank}) {
			t.Errorf("%s -m %s: banks %x, %q; want [%x]", tc.machine, tc.mem, banks, ferr, tc.bank)
		}
		f, _ := parse(blob)
		if m, ok := f.property("psci", "method"); !ok || string(cstring(m)) != tc.psci {
			t.Errorf("%s: /psci method %q, %v; want %q", tc.machine, m, ok, tc.psci)
		}
		if s, ok := f.property("chosen", "stdout-path"); !ok || string(cstring(s)) != "/pl011@9000000" {
			t.Errorf("%s: /chosen stdout-path %q, %v; want the PL011 at PL011_BASE", tc.machine, s, ok)
		}
		if r, ok := f.property("pl011@9000000", "reg"); !ok || len(r) != 16 ||
			binary.BigEndian.Uint64(r) != PL011_BASE {
			t.Errorf("%s: /pl011@9000000 reg %x, %v", tc.machine, r, ok)
		}
		if s, ok := f.property("chosen", "rng-seed"); !ok || len(s) == 0 {
			t.Errorf("%s: no /chosen rng-seed", tc.machine)
		}
	}
}

// cpuTree is a virt-like tree with cpus cpu nodes, the last one disabled
// if disabled is set, a cpu-map subnode and a node named cpu@ outside
// /cpus that must not count.
func cpuTree(cpus int, disabled bool) []byte {
	b := &fdtBuilder{}
	b.begin("")
	b.propBytes("compatible", []byte("linux,dummy-virt\x00"))
	b.begin("cpu@elsewhere")
	b.end()
	b.begin("cpus")
	b.prop("#size-cells", 0)
	b.begin("cpu-map")
	b.begin("socket0")
	b.begin("cluster0")
	b.begin("core0")
	b.prop("cpu", 0x8001)
	b.end()
	b.end()
	b.end()
	b.end()
	for i := range cpus {
		b.begin("cpu@" + string(rune('0'+i)))
		b.propBytes("device_type", []byte("cpu\x00"))
		if disabled && i == cpus-1 {
			b.propBytes("status", []byte("disabled\x00"))
		} else if i == 1 {
			b.propBytes("status", []byte("okay\x00"))
		}
		b.end()
	}
	b.end()
	b.end()
	b.u32(FDT_END)
	return b.blob()
}

func TestFDTCPUCount(t *testing.T) {
	for _, tc := range []struct {
		cpus     int
		disabled bool
		want     int
	}{{1, false, 1}, {2, false, 2}, {4, false, 4}, {3, true, 2}} {
		f, err := parse(cpuTree(tc.cpus, tc.disabled))
		if err != fdtOK {
			t.Fatal(err)
		}
		if got, err := f.cpuCount(); err != fdtOK || got != tc.want {
			t.Errorf("%d cpus (last disabled %v): got %d, %q; want %d", tc.cpus, tc.disabled, got, err, tc.want)
		}
	}
	b := cpuTree(2, false)
	b = b[:len(b)-30] // into the structure block
	binary.BigEndian.PutUint32(b[fdtTotalSize:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[fdtSizeStrings:], 0)
	binary.BigEndian.PutUint32(b[fdtOffStrings:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[fdtSizeStruct:], uint32(len(b))-binary.BigEndian.Uint32(b[fdtOffStruct:]))
	if f, err := parse(b); err != fdtOK {
		t.Errorf("truncated: header rejected: %q", err)
	} else if _, err := f.cpuCount(); err != fdtErrStructure {
		t.Errorf("truncated: %q, want %q", err, fdtErrStructure)
	}
}
