//go:build tamago && arm64

package aarch64

// The boot translation tables and the MMU (mmuinit in mmu_arm64.s):
// identity mapping, register fields as named in the Arm ARM (DDI 0487).
const (
	// SCTLR_EL1 bits.
	SCTLR_EL1_M   = 1 << 0  // stage 1 translation enable
	SCTLR_EL1_A   = 1 << 1  // alignment check
	SCTLR_EL1_C   = 1 << 2  // data cacheability
	SCTLR_EL1_I   = 1 << 12 // instruction cacheability
	SCTLR_EL1_WXN = 1 << 19 // writable implies execute-never

	// TCR_EL1 fields for the boot tables: 4 KiB granule, 39-bit input
	// addresses (walks start at level 1), 40-bit output addresses,
	// inner-shareable write-back walks, TTBR1 walks disabled.
	TCR_EL1_T0SZ_39  = 64 - 39    // bits 5:0
	TCR_EL1_IRGN0_WB = 0b01 << 8  // inner write-back, read/write-allocate
	TCR_EL1_ORGN0_WB = 0b01 << 10 // outer write-back, read/write-allocate
	TCR_EL1_SH0_IS   = 0b11 << 12 // inner shareable
	TCR_EL1_TG0_4K   = 0b00 << 14
	TCR_EL1_EPD1     = 1 << 23    // no walks through TTBR1_EL1
	TCR_EL1_TG1_4K   = 0b10 << 30 // (a valid encoding, although unused)
	TCR_EL1_IPS_40   = 0b010 << 32

	bootTCR = TCR_EL1_T0SZ_39 | TCR_EL1_IRGN0_WB | TCR_EL1_ORGN0_WB |
		TCR_EL1_SH0_IS | TCR_EL1_TG0_4K | TCR_EL1_EPD1 | TCR_EL1_TG1_4K |
		TCR_EL1_IPS_40

	// MAIR_EL1 attributes: index 0 Device-nGnRnE (0x00), index 1 Normal
	// memory, inner and outer write-back non-transient, read and write
	// allocate (0xff).
	MAIR_DEVICE_nGnRnE = 0x00
	MAIR_NORMAL_WB     = 0xff
	attrDevice         = 0
	attrNormal         = 1
	bootMAIR           = MAIR_DEVICE_nGnRnE<<(8*attrDevice) | MAIR_NORMAL_WB<<(8*attrNormal)

	// Stage 1 block and table descriptors, VMSAv8-64 with a 4 KiB
	// granule (Arm ARM D8.3 "Translation table descriptor formats").
	PTE_TABLE     = 0b11 // level 0-2 table descriptor
	PTE_BLOCK     = 0b01 // level 1-2 block descriptor
	PTE_ATTRINDX  = 2    // bits 4:2: MAIR_EL1 attribute index (shift)
	PTE_AP_RW_EL1 = 0b00 << 6
	PTE_SH_IS     = 0b11 << 8 // inner shareable
	PTE_AF        = 1 << 10   // access flag
	PTE_PXN       = 1 << 53   // privileged execute-never
	PTE_UXN       = 1 << 54   // unprivileged execute-never

	blockNormal = PTE_BLOCK | attrNormal<<PTE_ATTRINDX | PTE_AP_RW_EL1 | PTE_SH_IS | PTE_AF | PTE_UXN
	blockDevice = PTE_BLOCK | attrDevice<<PTE_ATTRINDX | PTE_AP_RW_EL1 | PTE_AF | PTE_PXN | PTE_UXN

	// BootTablesSize is the boot tables' size, at the address the
	// board passes to Start (R22; the boards put them in the 64 KiB
	// between their RamStart and the image): one level 1 table (1 GiB
	// blocks: 0-1 GiB through a level 2 table, 1-256 GiB normal memory,
	// the rest of the 512 GiB devices) and one level 2 table for 0-1 GiB
	// (2 MiB blocks of device memory, the first left invalid so that nil
	// dereferences fault). The boards' RAM (QEMU virt's, the i.MX 8M
	// Plus's DDR) starts at 1 GiB and their devices are below it.
	BootTablesSize = 0x2000
)
