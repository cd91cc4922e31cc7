//go:build tamago

#include "textflag.h"

// func copyWords(dst, src, n uint64)
//
// REP MOVSQ (SDM Vol. 2B, MOVS/MOVSB/MOVSW/MOVSD/MOVSQ, and REP): RCX
// quadwords from [RSI] to [RDI], upwards (CLD: RFLAGS.DF=0, which Go code
// keeps anyway; the interrupted code's RFLAGS comes back with IRET).
// General-purpose registers only: the fault entry saves the SSE state with
// FXSAVE but not the AVX upper halves, so the fault path must not touch
// YMM registers, which the runtime's memmove may use. The runtime's
// memmove copies an aligned 4 KiB page with the same REP MOVSQ.
TEXT ·copyWords(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	SHRQ	$3, CX
	CLD
	REP;	MOVSQ
	RET
