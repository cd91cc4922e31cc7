//go:build tamago

#include "textflag.h"

// func copyWords(dst, src, n uint64)
//
// 64 bytes per iteration with LDP/STP of general-purpose registers (Arm
// ARM C6.2, LDP and STP, post-index forms), then 8 bytes at a time for
// the rest (n is a multiple of 8). R3-R10 are scratch in the ABI0 calling
// convention; the fault entry saves every register anyway.
TEXT ·copyWords(SB),NOSPLIT|NOFRAME,$0-24
	MOVD	dst+0(FP), R0
	MOVD	src+8(FP), R1
	MOVD	n+16(FP), R2
loop64:
	CMP	$64, R2
	BLT	tail
	LDP.P	16(R1), (R3, R4)
	LDP.P	16(R1), (R5, R6)
	LDP.P	16(R1), (R7, R8)
	LDP.P	16(R1), (R9, R10)
	STP.P	(R3, R4), 16(R0)
	STP.P	(R5, R6), 16(R0)
	STP.P	(R7, R8), 16(R0)
	STP.P	(R9, R10), 16(R0)
	SUB	$64, R2
	B	loop64
tail:
	CBZ	R2, done
	MOVD.P	8(R1), R3
	MOVD.P	R3, 8(R0)
	SUB	$8, R2
	B	tail
done:
	RET
