//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// Frame layout: ExceptionFrame in exception.go.
#define FRAME 304
#define F_SP 248
#define F_ELR 256
#define F_SPSR 264
#define F_ESR 272
#define F_FAR 280
#define F_VECTOR 288

// Each entry saves X0-X1 in the frame below SP, puts its index in X0 and
// branches to the common code, which allocates the frame (Arm ARM
// chapter D1, "Exception vectors": entries are 0x80 bytes apart).
#define ENTRY(n) \
	PCALIGN	$128 \
	STP	(R0, R1), -FRAME(RSP) \
	MOVD	$n, R0 \
	B	·exceptionEntry(SB)

// vectors is the VBAR_EL1 table (2 KiB aligned).
TEXT ·vectors(SB),NOSPLIT|NOFRAME,$0
	PCALIGN	$2048
	ENTRY(0)
	ENTRY(1)
	ENTRY(2)
	ENTRY(3)
	ENTRY(4)
	ENTRY(5)
	ENTRY(6)
	ENTRY(7)
	ENTRY(8)
	ENTRY(9)
	ENTRY(10)
	ENTRY(11)
	ENTRY(12)
	ENTRY(13)
	ENTRY(14)
	ENTRY(15)

TEXT ·exceptionEntry(SB),NOSPLIT|NOFRAME,$0
	SUB	$FRAME, RSP
	STP	(R2, R3), 16(RSP)
	STP	(R4, R5), 32(RSP)
	STP	(R6, R7), 48(RSP)
	STP	(R8, R9), 64(RSP)
	STP	(R10, R11), 80(RSP)
	STP	(R12, R13), 96(RSP)
	STP	(R14, R15), 112(RSP)
	STP	(R16, R17), 128(RSP)
	STP	(R18_PLATFORM, R19), 144(RSP)
	STP	(R20, R21), 160(RSP)
	STP	(R22, R23), 176(RSP)
	STP	(R24, R25), 192(RSP)
	STP	(R26, R27), 208(RSP)
	STP	(g, R29), 224(RSP)
	MOVD	R30, 240(RSP)
	MRS	SP_EL0, R1
	MOVD	R1, F_SP(RSP)
	MRS	ELR_EL1, R1
	MOVD	R1, F_ELR(RSP)
	MRS	SPSR_EL1, R1
	MOVD	R1, F_SPSR(RSP)
	MRS	ESR_EL1, R1
	MOVD	R1, F_ESR(RSP)
	MRS	FAR_EL1, R1
	MOVD	R1, F_FAR(RSP)
	MOVD	R0, F_VECTOR(RSP)

	// resume := exception(frame), ABI0: argument at 8(RSP), result at
	// 16(RSP) of the call frame.
	MOVD	RSP, R1
	SUB	$32, RSP
	MOVD	R1, 8(RSP)
	BL	·exception(SB)
	MOVBU	16(RSP), R0
	ADD	$32, RSP
	CBZ	R0, dead

	MOVD	F_SP(RSP), R1
	MSR	R1, SP_EL0
	MOVD	F_ELR(RSP), R1
	MSR	R1, ELR_EL1
	MOVD	F_SPSR(RSP), R1
	MSR	R1, SPSR_EL1
	LDP	16(RSP), (R2, R3)
	LDP	32(RSP), (R4, R5)
	LDP	48(RSP), (R6, R7)
	LDP	64(RSP), (R8, R9)
	LDP	80(RSP), (R10, R11)
	LDP	96(RSP), (R12, R13)
	LDP	112(RSP), (R14, R15)
	LDP	128(RSP), (R16, R17)
	LDP	144(RSP), (R18_PLATFORM, R19)
	LDP	160(RSP), (R20, R21)
	LDP	176(RSP), (R22, R23)
	LDP	192(RSP), (R24, R25)
	LDP	208(RSP), (R26, R27)
	LDP	224(RSP), (g, R29)
	MOVD	240(RSP), R30
	LDP	0(RSP), (R0, R1)
	ADD	$FRAME, RSP
	ERET

dead:
	WFE
	B	dead

// func semihostingCallPC() uintptr
TEXT ·semihostingCallPC(SB),NOSPLIT,$0-8
	MOVD	$·semihostingCall(SB), R0
	ADD	$8, R0	// the HLT: after two MOVDs
	MOVD	R0, ret+0(FP)
	RET
