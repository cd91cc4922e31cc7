//go:build tamago && amd64

#include "go_asm.h"
#include "textflag.h"
#include "xsave_amd64.h"

// Frame on the IST1 stack at entry (Intel SDM Vol. 3A 6.14.2, Figure 6-9):
// error code, RIP, CS, RFLAGS, RSP, SS; the processor aligned RSP to 16
// bytes before pushing them. The IST stack tops are 64-byte aligned
// (initXSAVE checks), so after these 6 words and the 15 registers SP is
// top-168, and XAREA puts the extended-state area at top-1024: 64-byte
// aligned, as XSAVE requires.
#define GPRS	(15*8)
#define XAREA	(const_XSAVE_AREA+24)	/* kernel.faultEntryFrame */
#define ARGS	48	/* pageFault(cr2, code, rip, rbp, rsp uint64) bool, ABI0;
			   nestedFault(cr2, code, rip, rbp, rsp, depth uint64) */
#define FAULT_DEPTH	0	/* kernel.FAULT_DEPTH */

// pageFaultEntry is the #PF handler. It saves every general-purpose
// register and the extended state (x87, SSE, AVX: the Go code it calls may
// use them, and the ABI wrapper zeroes X15) and counts itself in the fault state's depth. At depth 1 it
// points the TSS's IST1 at the nested-fault stack while pageFault runs (a
// fault inside the handler then gets a stack of its own instead of
// overwriting this frame), calls pageFault with CR2, the error code, RIP,
// RBP and the interrupted RSP, puts IST1 back, restores the registers and
// returns to the faulting instruction, which re-executes. At depth 2 or
// more it calls nestedFault instead, which does not return; nor does
// pageFault for a fault that is not the snapshot's.
TEXT ·pageFaultEntry(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	AX
	PUSHQ	BX
	PUSHQ	CX
	PUSHQ	DX
	PUSHQ	SI
	PUSHQ	DI
	PUSHQ	BP
	PUSHQ	R8
	PUSHQ	R9
	PUSHQ	R10
	PUSHQ	R11
	PUSHQ	R12
	PUSHQ	R13
	PUSHQ	R14
	PUSHQ	R15
	SUBQ	$XAREA, SP
	SAVE_EXTENDED(0, fxsave, saved)
	SUBQ	$ARGS, SP
	MOVQ	CR2, AX
	MOVQ	AX, 0(SP)
	MOVQ	(ARGS+XAREA+GPRS)(SP), AX	// error code
	MOVQ	AX, 8(SP)
	MOVQ	(ARGS+XAREA+GPRS+8)(SP), AX	// RIP
	MOVQ	AX, 16(SP)
	MOVQ	(ARGS+XAREA+64)(SP), AX	// saved BP
	MOVQ	AX, 24(SP)
	MOVQ	(ARGS+XAREA+GPRS+32)(SP), AX	// interrupted RSP
	MOVQ	AX, 32(SP)
	MOVQ	·faultState(SB), CX
	INCQ	FAULT_DEPTH(CX)
	MOVQ	FAULT_DEPTH(CX), AX
	CMPQ	AX, $1
	JNE	nested
	MOVQ	·ist1Slot(SB), CX
	MOVQ	·nestedStackTop(SB), AX
	MOVQ	AX, (CX)
	CALL	·pageFault(SB)
	MOVQ	·ist1Slot(SB), CX
	MOVQ	·faultStackTop(SB), AX
	MOVQ	AX, (CX)
	MOVQ	·faultState(SB), CX
	DECQ	FAULT_DEPTH(CX)
	ADDQ	$ARGS, SP
	RESTORE_EXTENDED(0, fxrstor, restored)
	ADDQ	$XAREA, SP
	POPQ	R15
	POPQ	R14
	POPQ	R13
	POPQ	R12
	POPQ	R11
	POPQ	R10
	POPQ	R9
	POPQ	R8
	POPQ	BP
	POPQ	DI
	POPQ	SI
	POPQ	DX
	POPQ	CX
	POPQ	BX
	POPQ	AX
	ADDQ	$8, SP	// error code
	IRETQ
nested:
	MOVQ	AX, 40(SP)	// depth
	CALL	·nestedFault(SB)
	HLT	// not reached: nestedFault stops the machine

// doubleFaultEntry is the #DF handler, on IST3 (its own stack): it calls
// doubleFault, which stops the machine.
TEXT ·doubleFaultEntry(SB),NOSPLIT|NOFRAME,$0
	ANDQ	$-16, SP
	SUBQ	$16, SP
	CALL	·doubleFault(SB)
	HLT

// func doubleFaultEntryAddr() uint64
TEXT ·doubleFaultEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·doubleFaultEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func pageFaultEntryAddr() uint64
TEXT ·pageFaultEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·pageFaultEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func reloadDataSegments(sel uint16)
TEXT ·reloadDataSegments(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	RET

// func runOnStack(sp uint64, fn func())
// Calls fn on the stack whose top is sp, with the current g's stackguard0
// cleared so that no function on the way runs the stack-growth check
// against a stack it is not on (morestack would then try to grow the
// goroutine stack, or act on a pending preemption request). Interrupts
// must be off. The old stackguard0 is restored on return.
TEXT ·runOnStack(SB),NOSPLIT,$0-16
	MOVQ	fn+8(FP), DX
	MOVQ	sp+0(FP), AX
	MOVQ	(TLS), R8		// g
	MOVQ	16(R8), R9		// g.stackguard0 (g.stack is lo, hi)
	MOVQ	$0, 16(R8)
	MOVQ	SP, CX
	MOVQ	AX, SP
	PUSHQ	CX			// caller's SP
	PUSHQ	R9			// saved stackguard0
	MOVQ	0(DX), AX
	CALL	AX
	POPQ	R9
	POPQ	CX
	MOVQ	CX, SP
	MOVQ	(TLS), R8
	MOVQ	R9, 16(R8)
	RET
