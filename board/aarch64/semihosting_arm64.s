//go:build tamago

#include "textflag.h"

// func semihostingCall(op uint64, param *[2]uint64) uint64
//
// The call is HLT #0xF000 (the A64 semihosting trap) with the operation
// in W0 and the parameter in X1, the result in X0 (semihosting 2.0, "The
// semihosting interface"). When semihosting is off the HLT is undefined:
// the exception vector resumes at the next instruction (see exception.go)
// with X0 unchanged.
TEXT ·semihostingCall(SB),NOSPLIT,$0-24
	MOVD	op+0(FP), R0
	MOVD	param+8(FP), R1
	HLT	$0xf000
	MOVD	R0, ret+16(FP)
	RET
