//go:build tamago && arm64

#include "textflag.h"

// func gAddr() uint64
// The address of the current g (the interrupted goroutine's, in interrupt
// context): the g register, R28.
TEXT ·gAddr(SB),NOSPLIT,$0-8
	MOVD	g, R0
	MOVD	R0, ret+0(FP)
	RET
