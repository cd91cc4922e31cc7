//go:build tamago && amd64

#include "go_asm.h"
#include "textflag.h"
#include "xsave_amd64.h"

// func gAddr() uint64
// The address of the current g (the interrupted goroutine's, in interrupt
// context), from thread-local storage.
TEXT ·gAddr(SB),NOSPLIT,$0-8
	MOVQ	(TLS), AX
	MOVQ	AX, ret+0(FP)
	RET

// The IST stack tops are 64-byte aligned (initXSAVE checks): after the
// processor's 5 words and 15 registers SP is top-160, and XAREA puts the
// extended-state area at top-1024, 64-byte aligned as XSAVE requires.
#define XAREA	(const_XSAVE_AREA+32)

// INTERRUPT_ENTRY is the body of an interrupt handler entered through an
// interrupt gate (IF cleared) on its IST stack: the processor pushed SS,
// RSP, RFLAGS, CS and RIP on a 16-byte aligned stack (SDM Vol. 3A
// 6.14.2; the stack top is 64-byte aligned, see XAREA). It saves every
// general-purpose register and the extended state (x87, SSE, AVX: the Go
// code it calls uses them, and the ABI wrapper zeroes X15), calls
// handler(frame *TickFrame) and returns with IRETQ, to the interrupted code
// or wherever the handler moved RIP and RSP. SP -= XAREA+16 goes through a
// register: the linker's
// nosplit check would count the adjustment against a goroutine stack
// guard, but this runs on the interrupt stack.
#define INTERRUPT_ENTRY(handler) \
	PUSHQ	AX; \
	PUSHQ	BX; \
	PUSHQ	CX; \
	PUSHQ	DX; \
	PUSHQ	SI; \
	PUSHQ	DI; \
	PUSHQ	BP; \
	PUSHQ	R8; \
	PUSHQ	R9; \
	PUSHQ	R10; \
	PUSHQ	R11; \
	PUSHQ	R12; \
	PUSHQ	R13; \
	PUSHQ	R14; \
	PUSHQ	R15; \
	MOVQ	SP, AX; \
	MOVQ	SP, BX; \
	SUBQ	$(XAREA+16), BX; \
	MOVQ	BX, SP; \
	MOVQ	AX, 0(SP); \
	SAVE_EXTENDED(16, fxsave, saved); \
	CALL	handler; \
	RESTORE_EXTENDED(16, fxrstor, restored); \
	MOVQ	SP, BX; \
	ADDQ	$(XAREA+16), BX; \
	MOVQ	BX, SP; \
	POPQ	R15; \
	POPQ	R14; \
	POPQ	R13; \
	POPQ	R12; \
	POPQ	R11; \
	POPQ	R10; \
	POPQ	R9; \
	POPQ	R8; \
	POPQ	BP; \
	POPQ	DI; \
	POPQ	SI; \
	POPQ	DX; \
	POPQ	CX; \
	POPQ	BX; \
	POPQ	AX; \
	IRETQ

// tickEntry is the TICK_VECTOR interrupt handler: timerInterrupt.
TEXT ·tickEntry(SB),NOSPLIT|NOFRAME,$0
	INTERRUPT_ENTRY(·timerInterrupt(SB))

// deviceEntry is the DEVICE_VECTOR interrupt handler: deviceInterrupt.
TEXT ·deviceEntry(SB),NOSPLIT|NOFRAME,$0
	INTERRUPT_ENTRY(·deviceInterrupt(SB))

// func deviceEntryAddr() uint64
TEXT ·deviceEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·deviceEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func tickEntryAddr() uint64
TEXT ·tickEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·tickEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func stiHlt()
TEXT ·stiHlt(SB),NOSPLIT,$0-0
	STI
	HLT
	RET

// spuriousEntry is the LAPIC's spurious-interrupt vector handler: a
// spurious interrupt is not in service, so it takes no EOI (SDM Vol. 3A
// 11.9).
TEXT ·spuriousEntry(SB),NOSPLIT|NOFRAME,$0
	IRETQ

// func spuriousEntryAddr() uint64
TEXT ·spuriousEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·spuriousEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
