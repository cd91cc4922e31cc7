//go:build tamago && amd64

package kernel

import (
	"fmt"

	"github.com/pagesnap/pagesnap/mmu"
)

// Setup plans memory for a runtime whose memory ends at the DMA window dma,
// switches to pagesnap's own page tables (tamago's boot tables use large
// pages in low memory, which the snapshot cannot protect and split), turns
// on supervisor write protection (CR0.WP) and installs the resumable
// page-fault handler on its own stack (an unmapped guard page under each
// stack; a fault inside the handler reports on a second stack, a double
// fault on a third). It must run once, before any snapshot.
func Setup(dma Range) (*Machine, error) {
	ram, err := RAMRanges()
	if err != nil {
		return nil, err
	}
	return SetupRAM(ram, dma)
}

// SetupRAM is Setup for a machine whose RAM map is ram (sorted), for
// boards without fw_cfg (tamago's Firecracker, Cloud Hypervisor and GCE
// boards: the map their image gives the guest, see board/layout).
func SetupRAM(ram []Range, dma Range) (*Machine, error) {
	m, err := Plan(ram, dma)
	if err != nil {
		return nil, err
	}
	if err := m.buildTables(mmu.AMD64, &engineMem{}, mmu.X86_PCD|mmu.X86_PWT); err != nil {
		return nil, fmt.Errorf("page tables: %w", err)
	}
	if err := initXSAVE(m.FaultStackTop, m.NestedStackTop, m.TickStackTop); err != nil {
		return nil, err
	}
	// The page copy (fault path and drain) may use YMM registers: AVX()
	// implies CR4.OSXSAVE, so initXSAVE chose XSAVE with the AVX state for
	// every entry that can interrupt code using them.
	mmu.UseAVX(AVX())
	flags := cli()
	writeCR3(uint64(m.Tables.Root))
	setCR0WP()
	faultTables = m.Tables
	faultStackTop, nestedStackTop = m.FaultStackTop, m.NestedStackTop
	faultState = m.GDTPage + faultStateOff
	ist1Slot = installGDT(m.GDTPage, m.FaultStackTop, m.TickStackTop, m.DFStackTop)
	installPageFaultGate()
	restoreFlags(flags)
	setupIRQ(m)
	return m, nil
}
