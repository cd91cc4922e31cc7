//go:build tamago && arm64

#include "textflag.h"

// The exception vector table pagesnap installs in VBAR_EL1 (Arm ARM DDI
// 0487, D1.10.2 "Exception vectors": 16 entries of 0x80 bytes, 2 KiB
// aligned). Entry 0, synchronous exceptions from EL1 on SP_EL0 (the Go
// code), and entry 4, from EL1 on SP_EL1 (an interrupt handler: the tick,
// whose stores to the interrupted goroutine's g and stack may hit a page a
// snapshot protected; it nests below the handler's frame), take write
// permission faults to abortEntry; everything else, and
// every fault abortEntry declines, continues in the board's vector of the
// same index (board/aarch64 vectors_arm64.s, the start-up every pagesnap
// arm64 board shares: a link-time reference, no import) with the registers as they
// were at the exception. All entries run on SP_EL1, which Setup points at
// the fault stack in the reserved region: nothing the vectors store lands
// in captured RAM.

#define BOARD_VECTORS github·com∕pagesnap∕pagesnap∕board∕aarch64·vectors

// ESR_EL1 fields (Arm ARM D19.2, ESR_EL1; ISS encoding for an exception
// from a Data Abort, D19.2.45).
#define ESR_EC_SHIFT	26
#define EC_DABT_CUR	0x25	// data abort taken without a change in exception level
#define ISS_WNR_BIT	6	// WnR: the access was a write
#define DFSC_KIND	0x3c	// DFSC bits 5:2
#define DFSC_PERM	0x0c	// 0b0011xx: permission fault, level in bits 1:0

// Frame on the fault stack (FRAME bytes, 16-byte aligned): abortFrame
// (abortframe_arm64.go) — ELR_EL1 and SPSR_EL1, FPCR and FPSR, X2-X30,
// Q0-Q31 (the Go code called may use the SIMD registers: they are the
// interrupted code's), and at the top X0 and X1, which entry 0 saves below
// SP before the frame exists. Offsets and the unrolled save/restore
// sequences are generated: fault_arm64.h.
#include "fault_arm64.h"

// Below the frame: the ABI0 call frame of dataAbort(esr, far uint64) bool:
// saved LR slot at 0, esr at 8, far at 16, result at 24.
#define CALLFRAME	32

#define CHAIN(n) \
	PCALIGN	$128 \
	B	BOARD_VECTORS+(n*0x80)(SB)

TEXT ·snapVectors(SB),NOSPLIT|NOFRAME,$0
	PCALIGN	$2048
	// 0: synchronous, EL1 with SP_EL0.
	STP	(R0, R1), -16(RSP)
	MRS	ESR_EL1, R0
	LSR	$ESR_EC_SHIFT, R0, R1
	CMP	$EC_DABT_CUR, R1
	BNE	decline
	TBZ	$ISS_WNR_BIT, R0, decline
	AND	$DFSC_KIND, R0, R1
	CMP	$DFSC_PERM, R1
	BNE	decline
	MOVD	$0, R1	// declined faults go on to the board's vector 0
	B	·abortEntry(SB)
decline:
	LDP	-16(RSP), (R0, R1)
	B	BOARD_VECTORS(SB)
	CHAIN(1)
	CHAIN(2)
	CHAIN(3)
	// 4: synchronous, EL1 with SP_EL1: a write fault taken by an
	// interrupt handler (the periodic tick writes the interrupted
	// goroutine's g and stack, which a snapshot may have protected). It
	// nests on this stack below the handler's frame.
	PCALIGN	$128
	STP	(R0, R1), -16(RSP)
	MRS	ESR_EL1, R0
	LSR	$ESR_EC_SHIFT, R0, R1
	CMP	$EC_DABT_CUR, R1
	BNE	decline4
	TBZ	$ISS_WNR_BIT, R0, decline4
	AND	$DFSC_KIND, R0, R1
	CMP	$DFSC_PERM, R1
	BNE	decline4
	MOVD	$1, R1	// declined faults go on to the board's vector 4
	B	·abortEntry(SB)
decline4:
	LDP	-16(RSP), (R0, R1)
	B	BOARD_VECTORS+(4*0x80)(SB)
	CHAIN(5)
	CHAIN(6)
	CHAIN(7)
	CHAIN(8)
	CHAIN(9)
	CHAIN(10)
	CHAIN(11)
	CHAIN(12)
	CHAIN(13)
	CHAIN(14)
	CHAIN(15)

// abortEntry saves the rest of the interrupted context (X0 and X1 are
// saved already), calls dataAbort(ESR_EL1, FAR_EL1) and either returns
// to the faulting instruction, which re-executes (resolved), or restores
// everything and continues in the board's vector 0 (declined: the board
// turns it into a panic or a report; ESR, FAR, ELR and SPSR still hold
// this exception's values).
TEXT ·abortEntry(SB),NOSPLIT|NOFRAME,$0
	// RSP = RSP - FRAME through a register: the linker's nosplit check
	// would count an SP adjustment of the frame's size against the
	// goroutine stack guard, but this code runs on the fault stack (64
	// KiB, reserved region), never on a goroutine stack.
	MOVD	RSP, R0
	SUB	$FRAME, R0
	MOVD	R0, RSP
	MOVD	R1, F_FROM(RSP)
	SAVE_X2_X30
	MRS	ELR_EL1, R0
	MRS	SPSR_EL1, R1
	STP	(R0, R1), F_ELR(RSP)
	MRS	FPCR, R0
	MRS	FPSR, R1
	STP	(R0, R1), F_FPCR(RSP)
	SAVE_Q0_Q31

	MRS	ESR_EL1, R0
	MRS	FAR_EL1, R1
	SUB	$CALLFRAME, RSP
	MOVD	R0, 8(RSP)
	MOVD	R1, 16(RSP)
	CALL	·dataAbort(SB)
	MOVBU	24(RSP), R0
	ADD	$CALLFRAME, RSP

	RESTORE_Q0_Q31
	LDP	F_FPCR(RSP), (R1, R2)
	MSR	R1, FPCR
	MSR	R2, FPSR
	LDP	F_ELR(RSP), (R1, R2)
	MSR	R1, ELR_EL1
	MSR	R2, SPSR_EL1
	// R0 holds the result until the end; R1 and R2 are reloaded last.
	RESTORE_X4_X30
	LDP	(F_X2+0*16)(RSP), (R2, R3)
	// Pop the frame (through R1, as above); X0 and X1 are then just
	// below SP, where entry 0 saved them: nothing else runs on this
	// stack with exceptions masked.
	// The condition flags (nothing below changes them) remember which
	// entry a declined fault came through.
	MOVD	F_FROM(RSP), R1
	CMP	$0, R1
	MOVD	RSP, R1
	ADD	$FRAME, R1
	MOVD	R1, RSP
	CBZ	R0, declined
	LDP	-16(RSP), (R0, R1)
	ERET
declined:
	LDP	-16(RSP), (R0, R1)
	BNE	declined4
	B	BOARD_VECTORS(SB)
declined4:
	B	BOARD_VECTORS+(4*0x80)(SB)

// func snapVectorsAddr() uint64
TEXT ·snapVectorsAddr(SB),NOSPLIT,$0-8
	MOVD	$·snapVectors(SB), R0
	MOVD	R0, ret+0(FP)
	RET
