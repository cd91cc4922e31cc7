//go:build tamago

#include "textflag.h"

// func udf()
TEXT ·udf(SB),NOSPLIT,$0-0
	WORD	$0x00000000	// UDF #0
	RET

// func wakeG(gp uint) bool
TEXT ·wakeG(SB),NOSPLIT,$16-9
	MOVD	gp+0(FP), R0
	BL	runtime·WakeG(SB)
	MOVB	R0, ret+8(FP)
	RET

// func probeLoad(addr uintptr) (v, r19 uint64)
//
// Loads from addr with R0 = 7 and R19 = 0x1234 before the load; returns
// what R0 and R19 hold after it (an abort handler may resolve the load).
TEXT ·probeLoad(SB),NOSPLIT,$0-24
	MOVD	addr+0(FP), R1
	MOVD	$7, R0
	MOVD	$0x1234, R19
	MOVD	(R1), R0
	MOVD	R0, v+8(FP)
	MOVD	R19, r19+16(FP)
	RET
