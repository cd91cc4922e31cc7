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

// RoundOut widens each range to whole units of align (a power of two),
// clipped to within, and merges the result. pagesnap rounds the DMA blocks
// in use out to the 2 MiB leaves of its page tables: protecting part of a
// 2 MiB page means splitting it into 512 entries, which costs the pause
// more than copying the rest of it.
func RoundOut(rs []Range, align uint64, within Range) []Range {
	var out []Range
	for _, r := range rs {
		lo := max(r.Base&^(align-1), within.Base)
		hi := min(alignUp(r.End(), align), within.End())
		if lo >= hi {
			continue
		}
		if k := len(out) - 1; k >= 0 && lo <= out[k].End() {
			out[k].Size = max(out[k].End(), hi) - out[k].Base
			continue
		}
		out = append(out, Range{Base: lo, Size: hi - lo})
	}
	return out
}
