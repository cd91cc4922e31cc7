//go:build tamago

#include "textflag.h"

// func copyWords(dst, src, n uint64)
//
// 128 bytes per iteration with LDP/STP of SIMD&FP register pairs (Arm ARM
// C7.2, LDP and STP (SIMD&FP), post-index forms: 32 bytes per
// instruction), then 8 bytes at a time for the rest (n is a multiple of 8).
// F0-F7 and R3 are scratch in the ABI0 calling convention; the fault and
// interrupt entries save Q0-Q31 of the code they interrupt
// (kernel/fault_arm64.h, board/aarch64/vectors_arm64.s).
TEXT ·copyWords(SB),NOSPLIT|NOFRAME,$0-24
	MOVD	dst+0(FP), R0
	MOVD	src+8(FP), R1
	MOVD	n+16(FP), R2
	CMP	$128, R2
	BLT	tail
loop128:
	FLDPQ.P	32(R1), (F0, F1)
	FLDPQ.P	32(R1), (F2, F3)
	FLDPQ.P	32(R1), (F4, F5)
	FLDPQ.P	32(R1), (F6, F7)
	FSTPQ.P	(F0, F1), 32(R0)
	FSTPQ.P	(F2, F3), 32(R0)
	FSTPQ.P	(F4, F5), 32(R0)
	FSTPQ.P	(F6, F7), 32(R0)
	SUB	$128, R2
	CMP	$128, R2
	BGE	loop128
tail:
	CBZ	R2, done
	MOVD.P	8(R1), R3
	MOVD.P	R3, 8(R0)
	SUB	$8, R2
	B	tail
done:
	RET
