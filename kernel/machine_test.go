package kernel

import (
	"slices"
	"testing"
)

// TestPlanGuards: every stack of the reserved region has a guard page
// right under it, no stack or guard overlaps another or the table pool,
// and the guards of the first 2 MiB lie in it (buildTables maps the 2 MiB
// regions holding guards in 4 KiB pages and leaves the guards out).
func TestPlanGuards(t *testing.T) {
	ram := []Range{{Base: 0, Size: 0x9fc00}, {Base: 0x100000, Size: 1200<<20 - 0x100000}}
	m, err := Plan(ram, Range{Base: 0x20000000, Size: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	stacks := []struct {
		name      string
		top, size uint64
	}{
		{"fault", m.FaultStackTop, faultStackSize},
		{"nested-fault", m.NestedStackTop, nestedStackSize},
		{"double-fault", m.DFStackTop, doubleFaultStackSize},
		{"snapshot", m.SnapStackTop, snapStackSize},
		{"tick", m.TickStackTop, tickStackSize},
		{"drain", m.DrainStackTop, drainStackSize},
	}
	if len(m.Guards) != len(stacks) {
		t.Fatalf("%d guards for %d stacks: %#x", len(m.Guards), len(stacks), m.Guards)
	}
	var used []Range
	for _, s := range stacks {
		g := s.top - s.size - guardPageSize
		if !slices.Contains(m.Guards, g) {
			t.Errorf("%s stack [%#x, %#x): no guard page at %#x", s.name, s.top-s.size, s.top, g)
		}
		used = append(used, Range{Base: g, Size: guardPageSize + s.size})
	}
	root := m.TickStackTop
	used = append(used, Range{Base: m.GDTPage, Size: gdtPageSize}, Range{Base: root, Size: 4096 + tablePoolSize})
	for i, a := range used {
		if a.Base < m.Reserved.Base || a.End() > m.Reserved.End() {
			t.Errorf("%#x-%#x outside the reserved region %#x-%#x", a.Base, a.End(), m.Reserved.Base, m.Reserved.End())
		}
		for _, b := range used[i+1:] {
			if a.Base < b.End() && b.Base < a.End() {
				t.Errorf("%#x-%#x overlaps %#x-%#x", a.Base, a.End(), b.Base, b.End())
			}
		}
	}
	for _, g := range m.Guards[:5] {
		if g >= m.Reserved.Base+hugePage {
			t.Errorf("guard %#x past the reserved region's first 2 MiB", g)
		}
	}
}
