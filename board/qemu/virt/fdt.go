package virt

// This file has no build constraint: host tests run the reader on QEMU's
// device trees and on malformed blobs.

import "unsafe"

// Flattened device tree (Devicetree Specification v0.4, chapter 5). The
// reader allocates nothing, so that it can run before the runtime exists
// (earlyInit) and from the runtime's allocation-free hooks.
const (
	// FDT_MAGIC is the header's magic (5.2 Header).
	FDT_MAGIC = 0xd00dfeed
	// Structure block tokens (5.4.1 Lexical structure).
	FDT_BEGIN_NODE = 0x1
	FDT_END_NODE   = 0x2
	FDT_PROP       = 0x3
	FDT_NOP        = 0x4
	FDT_END        = 0x9

	// Header field offsets (5.2 Header).
	fdtTotalSize   = 4
	fdtOffStruct   = 8
	fdtOffStrings  = 12
	fdtVersion     = 20
	fdtSizeStrings = 32
	fdtSizeStruct  = 36
	// fdtHeaderSize is the size of a version 17 header.
	fdtHeaderSize = 40
	// fdtMinVersion is the oldest layout with size_dt_struct (5.2).
	fdtMinVersion = 17
)

// fdt is a validated device tree blob.
type fdt struct {
	blob    []byte // the whole blob (totalsize bytes)
	structs []byte // structure block
	strings []byte // strings block
}

func be32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// fdtError is why a blob was rejected; a code, not an error value, so
// that the early boot path stores no pointers.
type fdtError uint8

const (
	fdtOK fdtError = iota
	fdtErrMagic
	fdtErrVersion
	fdtErrBounds
	fdtErrStructure
	fdtErrNoMemory
	fdtErrInterrupt
	fdtErrNoGIC
)

var fdtErrors = [...]string{
	fdtOK:           "",
	fdtErrMagic:     "no device tree at 0x40000000 (is the kernel linked at or above 0x40100000?)",
	fdtErrVersion:   "device tree older than version 17",
	fdtErrBounds:    "device tree header out of bounds",
	fdtErrStructure: "malformed device tree structure block",
	fdtErrNoMemory:  "device tree has no memory bank holding RamStart",
	fdtErrInterrupt: "virtio,mmio node whose interrupt is not a GIC SPI",
	fdtErrNoGIC:     "no arm,gic-v3 or GICv2 interrupt controller node",
}

func (e fdtError) String() string { return fdtErrors[e] }

// parseFDT validates the header of the blob at p, which may be at most
// max bytes long.
//
//go:nosplit
func parseFDT(p unsafe.Pointer, max uint32) (f fdt, err fdtError) {
	if max < fdtHeaderSize {
		return f, fdtErrBounds
	}
	hdr := unsafe.Slice((*byte)(p), fdtHeaderSize)
	if be32(hdr[0:]) != FDT_MAGIC {
		return f, fdtErrMagic
	}
	if be32(hdr[fdtVersion:]) < fdtMinVersion {
		return f, fdtErrVersion
	}
	total := be32(hdr[fdtTotalSize:])
	offStruct, sizeStruct := be32(hdr[fdtOffStruct:]), be32(hdr[fdtSizeStruct:])
	offStrings, sizeStrings := be32(hdr[fdtOffStrings:]), be32(hdr[fdtSizeStrings:])
	if total > max || total < fdtHeaderSize ||
		uint64(offStruct)+uint64(sizeStruct) > uint64(total) ||
		uint64(offStrings)+uint64(sizeStrings) > uint64(total) {
		return f, fdtErrBounds
	}
	blob := unsafe.Slice((*byte)(p), total)
	f.blob = blob
	f.structs = blob[offStruct : offStruct+sizeStruct]
	f.strings = blob[offStrings : offStrings+sizeStrings]
	return f, fdtOK
}

// fdtToken is one step of a walk through the structure block.
type fdtToken struct {
	kind  uint32 // FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP or FDT_END
	depth int    // nesting: 1 is the root node's level
	name  []byte // node name (unit address included) or property name
	value []byte // property value
}

// next decodes the token at *off and advances *off past it. FDT_NOP
// tokens are skipped. A malformed block yields fdtErrStructure.
//
//go:nosplit
func (f *fdt) next(off *int, depth *int) (t fdtToken, err fdtError) {
	s := f.structs
	for {
		o := *off
		if o < 0 || o+4 > len(s) {
			return t, fdtErrStructure
		}
		t.kind = be32(s[o:])
		o += 4
		switch t.kind {
		case FDT_NOP:
			*off = o
			continue
		case FDT_BEGIN_NODE:
			end := o
			for end < len(s) && s[end] != 0 {
				end++
			}
			if end >= len(s) {
				return t, fdtErrStructure
			}
			t.name = s[o:end]
			*depth++
			t.depth = *depth
			*off = align4(end + 1)
		case FDT_END_NODE:
			t.depth = *depth
			*depth--
			*off = o
		case FDT_PROP:
			if o+8 > len(s) {
				return t, fdtErrStructure
			}
			n, nameoff := int(be32(s[o:])), int(be32(s[o+4:]))
			o += 8
			if n < 0 || o+n > len(s) || nameoff < 0 || nameoff >= len(f.strings) {
				return t, fdtErrStructure
			}
			t.value = s[o : o+n]
			t.name = cstring(f.strings[nameoff:])
			t.depth = *depth
			*off = align4(o + n)
		case FDT_END:
			t.depth = *depth
			*off = o
		default:
			return t, fdtErrStructure
		}
		return t, fdtOK
	}
}

//go:nosplit
func align4(n int) int { return (n + 3) &^ 3 }

//go:nosplit
func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

//go:nosplit
func equal(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

// isNode reports whether a node name is base or base@unit-address.
//
//go:nosplit
func isNode(name []byte, base string) bool {
	if len(name) > len(base) && name[len(base)] == '@' {
		name = name[:len(base)]
	}
	return equal(name, base)
}

// cells reads a value of n 32-bit cells (n is 1 or 2), returning the
// rest of b.
//
//go:nosplit
func cells(b []byte, n uint32) (v uint64, rest []byte, ok bool) {
	if n < 1 || n > 2 || len(b) < int(4*n) {
		return 0, b, false
	}
	for i := uint32(0); i < n; i++ {
		v = v<<32 | uint64(be32(b[4*i:]))
	}
	return v, b[4*n:], true
}

// Range is a physical memory range [Start, Start+Size).
type Range struct {
	Start uint64
	Size  uint64
}

// maxBanks is how many memory ranges are kept from the device tree.
const maxBanks = 8

// memoryBanks reads the RAM ranges: the reg property of the root's
// memory nodes (3.4 /memory node), decoded with the root's
// #address-cells and #size-cells (2.3.5; defaults 2 and 1).
//
//go:nosplit
func (f *fdt) memoryBanks(banks *[maxBanks]Range) (n int, err fdtError) {
	addrCells, sizeCells := uint32(2), uint32(1)
	inMemory := false
	off, depth := 0, 0
	for {
		t, err := f.next(&off, &depth)
		if err != fdtOK {
			return n, err
		}
		switch t.kind {
		case FDT_END:
			return n, fdtOK
		case FDT_BEGIN_NODE:
			inMemory = t.depth == 2 && isNode(t.name, "memory")
		case FDT_END_NODE:
			if t.depth == 1 {
				return n, fdtOK
			}
			inMemory = false
		case FDT_PROP:
			switch {
			case t.depth == 1 && equal(t.name, "#address-cells") && len(t.value) == 4:
				addrCells = be32(t.value)
			case t.depth == 1 && equal(t.name, "#size-cells") && len(t.value) == 4:
				sizeCells = be32(t.value)
			case inMemory && t.depth == 2 && equal(t.name, "reg"):
				v := t.value
				for len(v) > 0 && n < maxBanks {
					var start, size uint64
					var ok bool
					if start, v, ok = cells(v, addrCells); !ok {
						return n, fdtErrStructure
					}
					if size, v, ok = cells(v, sizeCells); !ok {
						return n, fdtErrStructure
					}
					if size > 0 {
						banks[n] = Range{start, size}
						n++
					}
				}
			}
		}
	}
}

// cpuCount returns the number of processors: the children of the root's
// cpus node named cpu or cpu@unit-address (3.7 /cpus, 3.8 /cpus/cpu*)
// whose status is absent, "okay" or "ok" (2.3.4 status).
//
//go:nosplit
func (f *fdt) cpuCount() (n int, err fdtError) {
	inCpus, inCPU, available := false, false, false
	off, depth := 0, 0
	for {
		t, err := f.next(&off, &depth)
		if err != fdtOK {
			return n, err
		}
		switch t.kind {
		case FDT_END:
			return n, fdtOK
		case FDT_BEGIN_NODE:
			switch t.depth {
			case 2:
				inCpus = equal(t.name, "cpus")
			case 3:
				inCPU, available = inCpus && isNode(t.name, "cpu"), true
			}
		case FDT_END_NODE:
			switch t.depth {
			case 1:
				return n, fdtOK
			case 2:
				inCpus = false
			case 3:
				if inCPU && available {
					n++
				}
				inCPU = false
			}
		case FDT_PROP:
			if inCPU && t.depth == 3 && equal(t.name, "status") {
				s := cstring(t.value)
				available = equal(s, "okay") || equal(s, "ok")
			}
		}
	}
}

// property returns the value of property prop of the root's child node
// (name with its unit address, e.g. "chosen" or "pl011@9000000"), or of
// the root itself when node is "".
//
//go:nosplit
func (f *fdt) property(node string, prop string) (value []byte, found bool) {
	want := 1 // depth of the wanted node's properties
	if node != "" {
		want = 2
	}
	in := node == ""
	off, depth := 0, 0
	for {
		t, err := f.next(&off, &depth)
		if err != fdtOK || t.kind == FDT_END {
			return nil, false
		}
		switch t.kind {
		case FDT_BEGIN_NODE:
			if t.depth == 2 && node != "" {
				in = equal(t.name, node)
			}
		case FDT_END_NODE:
			if t.depth == 2 && node != "" {
				in = false
			}
		case FDT_PROP:
			if in && t.depth == want && equal(t.name, prop) {
				return t.value, true
			}
		}
	}
}

// runtimeRamSize returns the runtime's memory size for the RAM banks of a
// device tree: from RamStart to the end of the bank holding it, capped at
// RamLimit.
//
//go:nosplit
func runtimeRamSize(banks []Range) (size uint64, err fdtError) {
	for _, b := range banks {
		end := b.Start + b.Size
		if b.Start <= RamStart && RamStart < end {
			return min(end, RamLimit) - RamStart, fdtOK
		}
	}
	return 0, fdtErrNoMemory
}
