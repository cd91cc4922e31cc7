//go:build tamago

#include "textflag.h"

// func Read32(addr uint64) uint32
TEXT ·Read32(SB),NOSPLIT,$0-12
	MOVD	addr+0(FP), R0
	MOVWU	(R0), R0
	MOVW	R0, ret+8(FP)
	RET

// func Write32(addr uint64, val uint32)
TEXT ·Write32(SB),NOSPLIT,$0-12
	MOVD	addr+0(FP), R0
	MOVW	val+8(FP), R1
	MOVW	R1, (R0)
	RET

// func PhysPointer(addr uintptr) unsafe.Pointer
TEXT ·PhysPointer(SB),NOSPLIT,$0-16
	MOVD	addr+0(FP), R0
	MOVD	R0, ret+8(FP)
	RET
