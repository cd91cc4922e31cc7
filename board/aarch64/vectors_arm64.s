//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// Frame layout: ExceptionFrame in exception.go (304 bytes), then FPCR and
// FPSR and Q0-Q31: the Go code the handlers run (the tick's work, the
// runtime's preemption checks) may use the SIMD registers, which belong to
// the interrupted code. The last 16 bytes are where the vector entry saves
// X0 and X1 before the frame exists (the kernel's vectors, which chain to
// these, save them there too).
#define FRAME 848
#define F_ENTRY (FRAME-16)
#define F_FPCR 304
#define F_Q 320
#define F_SP 248
#define F_ELR 256
#define F_SPSR 264
#define F_ESR 272
#define F_FAR 280
#define F_VECTOR 288

// Each entry saves X0-X1 just below SP, puts its index in X0 and
// branches to the common code, which allocates the frame (Arm ARM
// chapter D1, "Exception vectors": entries are 0x80 bytes apart).
#define ENTRY(n) \
	PCALIGN	$128 \
	STP	(R0, R1), -16(RSP) \
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
	// RSP -= FRAME through a register: the linker's nosplit check would
	// count the adjustment against a goroutine stack guard, but this
	// runs on the SP_EL1 stack. X0 and X1 move from the top of the
	// frame, where the entry saved them, to ExceptionFrame.X[0:2].
	//
	// No instruction here may make the assembler use its temporary,
	// R27 (REGTMP), before R27 is saved or after it is restored: LDP and
	// STP reach only 504 bytes, so the entry slot (F_ENTRY) is moved
	// with single loads and stores, whose reach is 32 KiB. Go code keeps
	// values in R27 between instructions (the LSE compare-and-swap the
	// compiler emits for sync/atomic holds the expected value there), so
	// an interrupt that changed it made a CAS report success without
	// storing. TestExceptionEntryKeepsREGTMP checks the assembled code.
	MOVD	RSP, R1
	SUB	$FRAME, R1
	MOVD	R1, RSP
	STP	(R2, R3), 16(RSP)
	MOVD	F_ENTRY(RSP), R2
	MOVD	(F_ENTRY+8)(RSP), R3
	STP	(R2, R3), 0(RSP)
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
	MRS	FPCR, R0
	MRS	FPSR, R1
	STP	(R0, R1), F_FPCR(RSP)
	FSTPQ	(F0, F1), (F_Q+0*32)(RSP)
	FSTPQ	(F2, F3), (F_Q+1*32)(RSP)
	FSTPQ	(F4, F5), (F_Q+2*32)(RSP)
	FSTPQ	(F6, F7), (F_Q+3*32)(RSP)
	FSTPQ	(F8, F9), (F_Q+4*32)(RSP)
	FSTPQ	(F10, F11), (F_Q+5*32)(RSP)
	FSTPQ	(F12, F13), (F_Q+6*32)(RSP)
	FSTPQ	(F14, F15), (F_Q+7*32)(RSP)
	FSTPQ	(F16, F17), (F_Q+8*32)(RSP)
	FSTPQ	(F18, F19), (F_Q+9*32)(RSP)
	FSTPQ	(F20, F21), (F_Q+10*32)(RSP)
	FSTPQ	(F22, F23), (F_Q+11*32)(RSP)
	FSTPQ	(F24, F25), (F_Q+12*32)(RSP)
	FSTPQ	(F26, F27), (F_Q+13*32)(RSP)
	FSTPQ	(F28, F29), (F_Q+14*32)(RSP)
	FSTPQ	(F30, F31), (F_Q+15*32)(RSP)

	// resume := exception(frame), ABI0: argument at 8(RSP), result at
	// 16(RSP) of the call frame.
	MOVD	RSP, R1
	SUB	$32, RSP
	MOVD	R1, 8(RSP)
	BL	·exception(SB)
	MOVBU	16(RSP), R0
	ADD	$32, RSP
	CBZ	R0, dead

	FLDPQ	(F_Q+0*32)(RSP), (F0, F1)
	FLDPQ	(F_Q+1*32)(RSP), (F2, F3)
	FLDPQ	(F_Q+2*32)(RSP), (F4, F5)
	FLDPQ	(F_Q+3*32)(RSP), (F6, F7)
	FLDPQ	(F_Q+4*32)(RSP), (F8, F9)
	FLDPQ	(F_Q+5*32)(RSP), (F10, F11)
	FLDPQ	(F_Q+6*32)(RSP), (F12, F13)
	FLDPQ	(F_Q+7*32)(RSP), (F14, F15)
	FLDPQ	(F_Q+8*32)(RSP), (F16, F17)
	FLDPQ	(F_Q+9*32)(RSP), (F18, F19)
	FLDPQ	(F_Q+10*32)(RSP), (F20, F21)
	FLDPQ	(F_Q+11*32)(RSP), (F22, F23)
	FLDPQ	(F_Q+12*32)(RSP), (F24, F25)
	FLDPQ	(F_Q+13*32)(RSP), (F26, F27)
	FLDPQ	(F_Q+14*32)(RSP), (F28, F29)
	FLDPQ	(F_Q+15*32)(RSP), (F30, F31)
	LDP	F_FPCR(RSP), (R1, R2)
	MSR	R1, FPCR
	MSR	R2, FPSR
	MOVD	F_SP(RSP), R1
	MSR	R1, SP_EL0
	MOVD	F_ELR(RSP), R1
	MSR	R1, ELR_EL1
	MOVD	F_SPSR(RSP), R1
	MSR	R1, SPSR_EL1
	// X0 and X1 go back to the entry slot while R0 and R1 are still
	// scratch (single stores: see above).
	LDP	0(RSP), (R0, R1)
	MOVD	R0, F_ENTRY(RSP)
	MOVD	R1, (F_ENTRY+8)(RSP)
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
	// Pop the frame through a register (as above); X0 and X1 then sit
	// just below SP, where nothing else runs with exceptions masked.
	MOVD	RSP, R0
	ADD	$FRAME, R0
	MOVD	R0, RSP
	LDP	-16(RSP), (R0, R1)
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
