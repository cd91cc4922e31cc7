package gicv3

import "testing"

func TestAffinity(t *testing.T) {
	for _, tc := range []struct {
		mpidr, router, typer uint64
	}{
		// QEMU virt's one CPU: MPIDR_EL1 0x80000000 (RES1 bit 31).
		{0x8000_0000, 0, 0},
		// Aff3 1, U and MT set, Aff2 0x12, Aff1 1, Aff0 2.
		{0x01_c012_0102, 0x01_0012_0102, 0x0112_0102},
	} {
		if got := routerAffinity(tc.mpidr); got != tc.router {
			t.Errorf("routerAffinity(%#x) = %#x, want %#x", tc.mpidr, got, tc.router)
		}
		if got := typerAffinity(tc.mpidr); got != tc.typer {
			t.Errorf("typerAffinity(%#x) = %#x, want %#x", tc.mpidr, got, tc.typer)
		}
	}
}

func TestPriority(t *testing.T) {
	for _, tc := range []struct {
		id       uint32
		old      uint32
		prio     uint8
		off      uint64
		wantWord uint32
	}{
		{27, 0xa0a0a0a0, 0x80, 24, 0x80a0a0a0}, // PPI 27: byte 3 of GICR_IPRIORITYR6
		{48, 0xffffffff, 0x80, 48, 0xffffff80}, // SPI 16: byte 0
		{33, 0, 0xc0, 32, 0x0000c000},
	} {
		if off := priorityOffset(tc.id); off != tc.off {
			t.Errorf("priorityOffset(%d) = %d, want %d", tc.id, off, tc.off)
		}
		if w := priorityWord(tc.id, tc.old, tc.prio); w != tc.wantWord {
			t.Errorf("priorityWord(%d, %#x, %#x) = %#x, want %#x", tc.id, tc.old, tc.prio, w, tc.wantWord)
		}
	}
}
