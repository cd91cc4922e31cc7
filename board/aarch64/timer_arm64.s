//go:build tamago

#include "textflag.h"

// func read_cntfrq() uint64
TEXT ·read_cntfrq(SB),NOSPLIT,$0-8
	MRS	CNTFRQ_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func read_cntvct() uint64
TEXT ·read_cntvct(SB),NOSPLIT,$0-8
	// The ISB keeps the read from happening ahead of earlier
	// instructions: counter reads may be performed out of order (Arm
	// ARM, The Generic Timer in AArch64 state).
	ISB	$15
	MRS	CNTVCT_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func read_cntkctl() uint64
TEXT ·read_cntkctl(SB),NOSPLIT,$0-8
	MRS	CNTKCTL_EL1, R0
	MOVD	R0, ret+0(FP)
	RET

// func write_cntkctl(val uint64)
TEXT ·write_cntkctl(SB),NOSPLIT,$0-8
	MOVD	val+0(FP), R0
	MSR	R0, CNTKCTL_EL1
	ISB	$15
	RET

// func wfe()
TEXT ·wfe(SB),NOSPLIT,$0-0
	WFE
	RET
