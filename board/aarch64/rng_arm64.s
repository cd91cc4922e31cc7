//go:build tamago

#include "textflag.h"

// func read_id_aa64isar0() uint64
TEXT ·read_id_aa64isar0(SB),NOSPLIT,$0-8
	MRS	ID_AA64ISAR0_EL1, R0
	MOVD	R0, ret+0(FP)
	RET

// func rndr() (v uint64, ok bool)
TEXT ·rndr(SB),NOSPLIT,$0-9
	MRS	RNDR, R0
	CSET	NE, R1	// PSTATE.Z is set when no number was available
	MOVD	R0, v+0(FP)
	MOVB	R1, ok+8(FP)
	RET
