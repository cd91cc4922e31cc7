//go:build tamago

#include "textflag.h"

// func psciCall(fn uint64, smc bool) uint64
TEXT ·psciCall(SB),NOSPLIT,$0-24
	MOVD	fn+0(FP), R0
	MOVBU	smc+8(FP), R1
	CBNZ	R1, smc
	HVC	$0
	MOVD	R0, ret+16(FP)
	RET
smc:
	SMC	$0
	MOVD	R0, ret+16(FP)
	RET
