//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// func Exit(code int32)
TEXT ·Exit(SB),NOSPLIT|NOFRAME,$0-4
	MSR	$0xf, DAIFSet	// mask D, A, I, F
	MOVW	code+0(FP), R1
	MOVD	$·semihostingExit(SB), R2
	MOVD	$const_ADP_Stopped_ApplicationExit, R0
	MOVD	R0, 0(R2)
	MOVD	R1, 8(R2)
	MOVD	$const_SYS_EXIT_EXTENDED, R0
	MOVD	R2, R1
	BL	·semihostingCall(SB)
	MOVD	$const_PSCI_SYSTEM_OFF, R0
	HVC	$0
halt:
	WFE
	B	halt

// semihostingCall makes the semihosting call W0 with parameter X1 and
// returns its result in X0: HLT #0xF000 (semihosting 2.0, 4.2). When
// semihosting is off the HLT is undefined; the exception vector then
// resumes at the RET (see exception.go).
TEXT ·semihostingCall(SB),NOSPLIT|NOFRAME,$0
	HLT	$0xf000
	RET
