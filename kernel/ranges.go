package kernel

import "github.com/pagesnap/pagesnap/memrange"

// Range is a physical address range.
type Range = memrange.Range

// pageRange returns the 4 KiB pages that cover [addr, addr+size).
func pageRange(addr, size uint64) Range {
	lo := addr &^ 0xfff
	hi := (addr + size + 0xfff) &^ 0xfff
	return Range{Base: lo, Size: hi - lo}
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }
