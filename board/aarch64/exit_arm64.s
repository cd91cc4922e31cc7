//go:build tamago

#include "textflag.h"

// func maskInterrupts()
TEXT ·maskInterrupts(SB),NOSPLIT,$0-0
	MSR	$0xf, DAIFSet
	RET
