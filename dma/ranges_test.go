package dma

import (
	"slices"
	"testing"

	"github.com/pagesnap/pagesnap/memrange"
)

type R = memrange.Range

func TestPage(t *testing.T) {
	for _, c := range []struct {
		base, size uint64
		want       R
	}{
		{0x1000, 0x1000, rg(0x1000, 0x1000)},
		{0x1000, 1, rg(0x1000, 0x1000)},
		{0x1fff, 1, rg(0x1000, 0x1000)},
		{0x1fff, 2, rg(0x1000, 0x2000)},
		{0x1008, 0xff0, rg(0x1000, 0x1000)},
		{0x1008, 0xff8, rg(0x1000, 0x1000)},
		{0x1008, 0xff9, rg(0x1000, 0x2000)},
		{0x1234, 0, rg(0x1000, 0)},
		{0x20000000, 0x1000000, rg(0x20000000, 0x1000000)},
		{^uint64(0) - 10, 5, rg(^uint64(0)&^0xfff, 0)},           // would wrap: clamped away
		{^uint64(0) - 0x2000, 0x10, rg(^uint64(0x2fff), 0x2000)}, // straddles two pages
		{^uint64(0x1fff), 0x1100, rg(^uint64(0x1fff), 0x1000)},   // would wrap: the last page is dropped
		{^uint64(0x1fff), 0x2000, rg(^uint64(0x1fff), 0x1000)},   // ends at the top: the last page is dropped
		// base+size+PageSize-1 wraps back to base itself: still clamped,
		// not empty (a check on the rounded end alone misses this).
		{0x1000, ^uint64(0xffe), rg(0x1000, ^uint64(0xfff)-0x1000)},
		{0x1000, ^uint64(0), rg(0x1000, ^uint64(0xfff)-0x1000)},
	} {
		if got := Page(c.base, c.size); got != c.want {
			t.Errorf("Page(%#x, %#x) = %v, want %v", c.base, c.size, got, c.want)
		}
	}
}

func TestPagesMerges(t *testing.T) {
	got := Pages([]R{
		rg(0x5000, 0x10),   // page 5
		rg(0x1000, 0x800),  // page 1
		rg(0x1800, 0x800),  // page 1 again
		rg(0x2000, 0x1),    // page 2: adjacent to 1
		rg(0x9000, 0),      // empty: dropped
		rg(0x4ff0, 0x20),   // pages 4-5
		rg(0x8000, 0x3000), // pages 8-10
		rg(0x9000, 0x100),  // inside 8-10
	})
	want := []R{rg(0x1000, 0x2000), rg(0x4000, 0x2000), rg(0x8000, 0x3000)}
	if !slices.Equal(got, want) {
		t.Fatalf("Pages = %v, want %v", got, want)
	}
	if n := Count(got); n != 7 {
		t.Fatalf("Count = %d, want 7", n)
	}
	if got := Pages(nil); len(got) != 0 {
		t.Fatalf("Pages(nil) = %v", got)
	}
}

// TestBlocksLikeTamago feeds Blocks the used-block map of an allocation
// pattern like kvm/virtio's: descriptor buffers, then page-aligned rings.
func TestBlocksLikeTamago(t *testing.T) {
	const start = 0x20000000
	used := map[uint]uint{
		start:          64 * 64,    // 64 descriptor buffers of 64 bytes: 1 page
		start + 0x1000: 0x1000 + 6, // rings: spill 6 bytes into a second page
		start + 0x3008: 16,         // small block in a page of its own
		start + 0x3100: 16,         // same page
	}
	got := Blocks(used)
	want := []R{rg(start, 0x4000)} // adjacent pages merge
	if !slices.Equal(got, want) {
		t.Fatalf("Blocks = %v, want %v", got, want)
	}
	if n := Count(got); n != 4 {
		t.Fatalf("Count = %d, want 4", n)
	}
	delete(used, start+0x1000) // a hole of two pages
	got = Blocks(used)
	want = []R{rg(start, 0x1000), rg(start+0x3000, 0x1000)}
	if !slices.Equal(got, want) {
		t.Fatalf("Blocks = %v, want %v", got, want)
	}
	if n := Count(got); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
}

func TestCovered(t *testing.T) {
	cover := Pages([]R{rg(0x1000, 0x2000), rg(0x8000, 0x1000)})
	for _, c := range []struct {
		r    R
		want bool
	}{
		{rg(0x1000, 0x2000), true},
		{rg(0x1800, 0x10), true},
		{rg(0x2ff0, 0x10), true},
		{rg(0x2ff0, 0x11), false}, // one byte past the end
		{rg(0x0fff, 0x2), false},  // one byte before the start
		{rg(0x3000, 0x1000), false},
		{rg(0x2000, 0x7000), false}, // spans the hole
		{rg(0x8000, 0x1000), true},
		{rg(0x5000, 0), true},
	} {
		if got := Covered(cover, c.r); got != c.want {
			t.Errorf("Covered(%v) = %v, want %v", c.r, got, c.want)
		}
	}
	rs := []R{rg(0x1000, 0x10), rg(0x3000, 0x10), rg(0x8000, 0x1000), rg(0x8fff, 2)}
	if got, want := Uncovered(cover, rs), []R{rg(0x3000, 0x10), rg(0x8fff, 2)}; !slices.Equal(got, want) {
		t.Fatalf("Uncovered = %v, want %v", got, want)
	}
}

func rg(base, size uint64) R { return R{Base: base, Size: size} }
