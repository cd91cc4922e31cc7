//go:build tamago && amd64

#include "textflag.h"

// func gAddr() uint64
// The address of the current g (the interrupted goroutine's, in interrupt
// context), from thread-local storage.
TEXT ·gAddr(SB),NOSPLIT,$0-8
	MOVQ	(TLS), AX
	MOVQ	AX, ret+0(FP)
	RET
