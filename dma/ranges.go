package dma

import "github.com/pagesnap/pagesnap/memrange"

// PageSize is the granularity of every range this package returns.
const PageSize = 4096

// Page rounds [base, base+size) out to whole pages. A zero size gives the
// empty range at the page holding base. The last page of the 64-bit address
// space is never included (its end is not representable); no physical
// memory lies there.
func Page(base, size uint64) memrange.Range {
	start := base &^ (PageSize - 1)
	if size == 0 {
		return memrange.Range{Base: start}
	}
	last := base + size - 1
	if last < base { // wraps past the top of the address space
		last = ^uint64(0)
	}
	end := last | (PageSize - 1) + 1
	if end == 0 { // last is in the top page: leave that page out
		end = ^uint64(PageSize - 1)
	}
	return memrange.Range{Base: start, Size: end - start}
}

// Pages rounds every range out to whole pages, drops empty ones, sorts them
// and merges overlapping or adjacent ones.
func Pages(rs []memrange.Range) []memrange.Range {
	out := make([]memrange.Range, 0, len(rs))
	for _, r := range rs {
		if p := Page(r.Base, r.Size); p.Size != 0 {
			out = append(out, p)
		}
	}
	return memrange.MergeInPlace(out)
}

// Blocks converts allocated blocks, address to size as returned by tamago's
// dma.Region.UsedBlocks, to sorted, merged page ranges.
func Blocks(used map[uint]uint) []memrange.Range {
	rs := make([]memrange.Range, 0, len(used))
	for addr, size := range used {
		rs = append(rs, memrange.Range{Base: uint64(addr), Size: uint64(size)})
	}
	return Pages(rs)
}

// Count returns the number of pages in rs, which must be page-aligned and
// disjoint (as returned by Pages).
func Count(rs []memrange.Range) uint64 {
	var n uint64
	for _, r := range rs {
		n += r.Size / PageSize
	}
	return n
}

// Covered reports whether every byte of r lies in cover, which must be
// sorted and merged (as returned by Pages). An empty r is always covered.
func Covered(cover []memrange.Range, r memrange.Range) bool {
	return memrange.Set(cover).Covers(r)
}

// Uncovered returns the ranges of rs, in order, that are not entirely in
// cover (sorted and merged): nil when cover covers them all.
func Uncovered(cover, rs []memrange.Range) []memrange.Range {
	var out []memrange.Range
	for _, r := range rs {
		if !Covered(cover, r) {
			out = append(out, r)
		}
	}
	return out
}
