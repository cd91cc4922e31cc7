//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// mmuinit builds the identity boot tables (see mmu.go) at R0 (the level 1
// table, then the level 2 table 4 KiB on) and turns on the MMU with
// caches. It uses R0-R8 and needs no stack.
TEXT ·mmuinit(SB),NOSPLIT|NOFRAME,$0
	MOVD	R0, R8
	ADD	$0x1000, R0, R1

	// L1[0]: the level 2 table for 0-1 GiB.
	ORR	$const_PTE_TABLE, R1, R2
	MOVD	R2, (R0)
	// L1[1..255]: 1 GiB blocks of normal memory (RAM lies here).
	MOVD	$1, R3
	MOVD	$const_blockNormal, R5
l1normal:
	LSL	$30, R3, R4
	ORR	R5, R4
	MOVD	R4, (R0)(R3<<3)
	ADD	$1, R3
	CMP	$256, R3
	BLT	l1normal
	// L1[256..511]: 1 GiB blocks of device memory.
	MOVD	$const_blockDevice, R5
l1device:
	LSL	$30, R3, R4
	ORR	R5, R4
	MOVD	R4, (R0)(R3<<3)
	ADD	$1, R3
	CMP	$512, R3
	BLT	l1device

	// L2[0]: invalid (0-2 MiB faults); L2[1..511]: 2 MiB device blocks.
	MOVD	ZR, (R1)
	MOVD	$1, R3
l2device:
	LSL	$21, R3, R4
	ORR	R5, R4
	MOVD	R4, (R1)(R3<<3)
	ADD	$1, R3
	CMP	$512, R3
	BLT	l2device

	// Invalidate the tables' cache lines (DC IVAC, to the point of
	// coherency): they were written with the MMU off, non-cacheable,
	// and a loader that ran with caches on (U-Boot on the EVK) may have
	// left stale lines for these addresses, which the cacheable table
	// walks below would read (Arm ARM D7.5.9 "Data cache
	// maintenance instructions"), in steps of 64 bytes: the smallest
	// data cache line (CTR_EL0.DminLine) of the Cortex-A53 and of
	// QEMU's cores.
	DSB	$15
	MOVD	R8, R2
	ADD	$const_BootTablesSize, R8, R3
invalidate:
	DC	IVAC, R2
	ADD	$64, R2
	CMP	R3, R2
	BLO	invalidate
	DSB	$15

	MOVD	$const_bootMAIR, R0
	MSR	R0, MAIR_EL1
	MOVD	$const_bootTCR, R0
	MSR	R0, TCR_EL1
	MSR	R8, TTBR0_EL1
	// The table stores complete before the first walk; no stale
	// translations remain (Arm ARM, chapter D8, "TLB maintenance").
	DSB	$15
	TLBI	VMALLE1
	DSB	$15
	ISB	$15

	MRS	SCTLR_EL1, R0
	ORR	$(const_SCTLR_EL1_M|const_SCTLR_EL1_C|const_SCTLR_EL1_I), R0
	BIC	$(const_SCTLR_EL1_A|const_SCTLR_EL1_WXN), R0
	MSR	R0, SCTLR_EL1
	ISB	$15
	RET
