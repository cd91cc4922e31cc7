package kernel

import (
	"slices"

	"github.com/pagesnap/pagesnap/snapshot"
)

// Range is a physical address range.
type Range = snapshot.Range

func sortRanges(rs []Range) []Range {
	slices.SortFunc(rs, func(a, b Range) int {
		switch {
		case a.Base < b.Base:
			return -1
		case a.Base > b.Base:
			return 1
		}
		return 0
	})
	return rs
}

// pageRange returns the 4 KiB pages that cover [addr, addr+size).
func pageRange(addr, size uint64) Range {
	lo := addr &^ 0xfff
	hi := (addr + size + 0xfff) &^ 0xfff
	return Range{Base: lo, Size: hi - lo}
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }
