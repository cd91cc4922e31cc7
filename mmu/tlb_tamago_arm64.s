//go:build tamago

#include "textflag.h"

// func tlbiVA(page uint64)
TEXT ·tlbiVA(SB),NOSPLIT,$0-8
	MOVD	page+0(FP), R0
	DSB	$0xa	// ISHST: table writes visible to the walkers
	TLBI	VAAE1IS, R0
	DSB	$0xb	// ISH: invalidation complete
	ISB	$15
	RET

// func tlbiAll()
TEXT ·tlbiAll(SB),NOSPLIT,$0-0
	DSB	$0xa
	TLBI	VMALLE1IS
	DSB	$0xb
	ISB	$15
	RET

// func readTTBR0() uint64
TEXT ·readTTBR0(SB),NOSPLIT,$0-8
	MRS	TTBR0_EL1, R0
	MOVD	R0, ret+0(FP)
	RET
