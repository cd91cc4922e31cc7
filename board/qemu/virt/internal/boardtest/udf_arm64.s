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
