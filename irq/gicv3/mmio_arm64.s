//go:build tamago

#include "textflag.h"

// func read32(addr uint64) uint32
TEXT ·read32(SB),NOSPLIT,$0-12
	MOVD	addr+0(FP), R0
	MOVWU	(R0), R0
	MOVW	R0, ret+8(FP)
	RET

// func write32(addr uint64, val uint32)
TEXT ·write32(SB),NOSPLIT,$0-12
	MOVD	addr+0(FP), R0
	MOVW	val+8(FP), R1
	MOVW	R1, (R0)
	RET

// func read64(addr uint64) uint64
TEXT ·read64(SB),NOSPLIT,$0-16
	MOVD	addr+0(FP), R0
	MOVD	(R0), R0
	MOVD	R0, ret+8(FP)
	RET

// func write64(addr uint64, val uint64)
TEXT ·write64(SB),NOSPLIT,$0-16
	MOVD	addr+0(FP), R0
	MOVD	val+8(FP), R1
	MOVD	R1, (R0)
	RET
