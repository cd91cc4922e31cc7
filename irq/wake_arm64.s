//go:build tamago

#include "textflag.h"

// func WakeG(gp uint) bool
// (a frame, so that the assembler saves the link register around the BL)
TEXT ·WakeG(SB),NOSPLIT,$16-9
	MOVD	gp+0(FP), R0
	BL	runtime·WakeG(SB)
	MOVB	R0, ret+8(FP)
	RET
