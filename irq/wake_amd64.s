//go:build tamago

#include "textflag.h"

// func WakeG(gp uint) bool
TEXT ·WakeG(SB),NOSPLIT,$0-9
	MOVQ	gp+0(FP), AX
	CALL	runtime·WakeG(SB)
	MOVB	AL, ret+8(FP)
	RET
