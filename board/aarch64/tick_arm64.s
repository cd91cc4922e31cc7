//go:build tamago

#include "textflag.h"

// func write_cntv_cval(v uint64)
TEXT ·write_cntv_cval(SB),NOSPLIT,$0-8
	MOVD	v+0(FP), R0
	MSR	R0, CNTV_CVAL_EL0
	ISB	$15
	RET

// func write_cntv_ctl(v uint64)
TEXT ·write_cntv_ctl(SB),NOSPLIT,$0-8
	MOVD	v+0(FP), R0
	MSR	R0, CNTV_CTL_EL0
	ISB	$15
	RET

// func unmaskIRQ()
// Clears PSTATE.I (DAIFClr immediate: D 8, A 4, I 2, F 1).
TEXT ·unmaskIRQ(SB),NOSPLIT,$0-0
	MSR	$2, DAIFClr
	RET
