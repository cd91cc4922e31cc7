//go:build tamago

#include "textflag.h"

// func SecureInit() (R0 = GICD, R1 = RD_base; see secure.go)
TEXT ·SecureInit(SB),NOSPLIT|NOFRAME,$0-0
	// GICD_CTLR (Secure view) = ARE_S | ARE_NS, groups disabled; wait
	// for RWP (bit 31).
	MOVW	$((1<<4)|(1<<5)), R2
	MOVW	R2, (R0)
rwp:
	MOVWU	(R0), R2
	TBNZ	$31, R2, rwp

	// Every SPI in Non-secure Group 1: GICD_IGROUPR<n> (0x80 + 4n),
	// n = 1 .. GICD_TYPER.ITLinesNumber.
	MOVWU	4(R0), R3	// GICD_TYPER
	AND	$0x1f, R3
	MOVW	$0xffffffff, R4
	ADD	$0x84, R0, R5
spis:
	CBZ	R3, spisdone
	MOVW	R4, (R5)
	ADD	$4, R5
	SUB	$1, R3
	B	spis
spisdone:

	// Wake the redistributor: GICR_WAKER (0x14) ProcessorSleep (bit 1)
	// cleared, then wait for ChildrenAsleep (bit 2) to clear.
	MOVWU	0x14(R1), R2
	BIC	$(1<<1), R2
	MOVW	R2, 0x14(R1)
asleep:
	MOVWU	0x14(R1), R2
	TBNZ	$2, R2, asleep

	// SGIs and PPIs in Non-secure Group 1: GICR_IGROUPR0 (SGI_base
	// 0x10000 + 0x80).
	ADD	$0x10080, R1, R5
	MOVW	R4, (R5)

	// ICC_SRE_EL3 = SRE | DFB | DIB | Enable.
	MOVD	$0xf, R0
	WORD	$0xd51ecca0	// MSR ICC_SRE_EL3, X0 (op1 6, C12, C12, op2 5)
	ISB	$15
	// ICC_PMR_EL1 = 0xff from the Secure side: a Non-secure write is
	// ignored while the mask is in the Secure half of the range (where
	// it resets) and Group 0 is routed to EL3 (SCR_EL3.FIQ).
	MOVD	$0xff, R0
	WORD	$0xd5184600	// MSR ICC_PMR_EL1, X0
	ISB	$15
	RET
