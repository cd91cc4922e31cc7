//go:build tamago && arm64

#include "textflag.h"

// func cli() (daif uint64)
TEXT ·cli(SB),NOSPLIT,$0-8
	MRS	DAIF, R0
	MSR	$3, DAIFSet	// I and F (immediate bits: D 8, A 4, I 2, F 1)
	MOVD	R0, daif+0(FP)
	RET

// func restoreFlags(daif uint64)
TEXT ·restoreFlags(SB),NOSPLIT,$0-8
	MOVD	daif+0(FP), R0
	MSR	R0, DAIF
	RET

// func cycles() uint64
TEXT ·cycles(SB),NOSPLIT,$0-8
	ISB	$15
	MRS	CNTVCT_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func runOnStack(sp uint64, fn func())
// The caller's SP, LR and g.stackguard0 (g.stack is lo, hi: offset 16)
// are kept on the new stack, above the callee's frame.
TEXT ·runOnStack(SB),NOSPLIT|NOFRAME,$0-16
	MOVD	sp+0(FP), R0
	MOVD	fn+8(FP), R26	// closure context register
	MOVD	16(g), R1
	MOVD	ZR, 16(g)
	MOVD	RSP, R2
	SUB	$48, R0
	MOVD	R0, RSP
	MOVD	R30, 16(RSP)
	MOVD	R2, 24(RSP)
	MOVD	R1, 32(RSP)
	MOVD	0(R26), R3
	CALL	(R3)
	MOVD	32(RSP), R1
	MOVD	24(RSP), R2
	MOVD	16(RSP), R30
	MOVD	R2, RSP
	MOVD	R1, 16(g)
	RET

// func setSPEL1(sp uint64)
TEXT ·setSPEL1(SB),NOSPLIT|NOFRAME,$0-8
	MOVD	sp+0(FP), R0
	MSR	$1, SPSel
	MOVD	R0, RSP
	MSR	$0, SPSel
	RET

// func setVBAR(addr uint64)
TEXT ·setVBAR(SB),NOSPLIT,$0-8
	MOVD	addr+0(FP), R0
	MSR	R0, VBAR_EL1
	ISB	$15
	RET

// func switchTables(ttbr0, tcr, mair uint64)
TEXT ·switchTables(SB),NOSPLIT|NOFRAME,$0-24
	MOVD	ttbr0+0(FP), R0
	MOVD	tcr+8(FP), R1
	MOVD	mair+16(FP), R2
	DSB	$15		// SY: the table stores are complete
	MRS	SCTLR_EL1, R3
	BIC	$1, R3, R4	// SCTLR_EL1.M (bit 0): stage 1 translation off
	MSR	R4, SCTLR_EL1
	ISB	$15
	MSR	R2, MAIR_EL1
	MSR	R1, TCR_EL1
	MSR	R0, TTBR0_EL1
	ISB	$15
	TLBI	VMALLE1
	DSB	$15
	ISB	$15
	MSR	R3, SCTLR_EL1	// translation on, with the new tables
	ISB	$15
	RET
