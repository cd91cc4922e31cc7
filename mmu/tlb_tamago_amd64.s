//go:build tamago

#include "textflag.h"

// func invlpg(va uint64)
TEXT ·invlpg(SB),NOSPLIT,$0-8
	MOVQ	va+0(FP), AX
	INVLPG	(AX)
	RET

// func flushAll()
// CR4.PGE is bit 7 (SDM Vol. 3A 2.5): flipping it flushes all TLB entries.
TEXT ·flushAll(SB),NOSPLIT,$0-0
	MOVQ	CR4, AX
	XORQ	$0x80, AX
	MOVQ	AX, CR4
	XORQ	$0x80, AX
	MOVQ	AX, CR4
	RET

// func readCR3() uint64
TEXT ·readCR3(SB),NOSPLIT,$0-8
	MOVQ	CR3, AX
	MOVQ	AX, ret+0(FP)
	RET
