// Package memrange is physical address ranges and the one set type that
// sorts, merges, subtracts and rounds them out. It is a leaf package shared
// by the snapshot engine, the DMA accounting and the kernel.
package memrange

import (
	"fmt"
	"slices"
)

// Range is a physical address range [Base, Base+Size).
type Range struct {
	Base, Size uint64
}

// End returns the first address after r.
func (r Range) End() uint64 { return r.Base + r.Size }

// Contains reports whether addr lies in r.
func (r Range) Contains(addr uint64) bool { return addr >= r.Base && addr-r.Base < r.Size }

// Overlaps reports whether r and o share at least one byte.
func (r Range) Overlaps(o Range) bool { return r.Base < o.End() && o.Base < r.End() }

func (r Range) String() string { return fmt.Sprintf("[%#x, %#x)", r.Base, r.End()) }

// Set is a sorted list of disjoint, non-adjacent ranges, as Merge returns.
type Set []Range

// Sort sorts rs in place by base address and returns it.
func Sort(rs []Range) []Range {
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

// Merge returns rs (not modified) sorted, with overlapping or adjacent
// ranges merged; nil if rs is empty.
func Merge(rs []Range) Set {
	if m := MergeInPlace(slices.Clone(rs)); len(m) > 0 {
		return m
	}
	return nil
}

// MergeInPlace is Merge reusing rs's array.
func MergeInPlace(rs []Range) Set {
	Sort(rs)
	out := rs[:0]
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r.Base <= out[k].End() {
			out[k].Size = max(out[k].End(), r.End()) - out[k].Base
			continue
		}
		out = append(out, r)
	}
	return Set(out)
}

// Subtract returns r minus the ranges of s, in order.
func (s Set) Subtract(r Range) []Range {
	var out []Range
	cur := r.Base
	for _, e := range s {
		if e.End() <= cur || e.Base >= r.End() {
			continue
		}
		if e.Base > cur {
			out = append(out, Range{cur, e.Base - cur})
		}
		cur = max(cur, e.End())
	}
	if cur < r.End() {
		out = append(out, Range{cur, r.End() - cur})
	}
	return out
}

// RoundOut widens each range of s to whole units of align (a power of
// two), clipped to within, and merges the result.
func (s Set) RoundOut(align uint64, within Range) Set {
	var out Set
	for _, r := range s {
		lo := max(r.Base&^(align-1), within.Base)
		hi := min((r.End()+align-1)&^(align-1), within.End())
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

// Covers reports whether every byte of r lies in s. An empty r is always
// covered.
func (s Set) Covers(r Range) bool {
	if r.Size == 0 {
		return true
	}
	for _, c := range s {
		if c.Contains(r.Base) {
			return r.End()-c.Base <= c.Size
		}
	}
	return false
}
