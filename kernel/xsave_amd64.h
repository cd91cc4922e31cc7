// Saving and restoring the processor's extended state in pagesnap's
// interrupt entries (fault_amd64.s, tick_amd64.s; see xsave_amd64.go).
// off(SP) is a 64-byte aligned area of const_XSAVE_AREA bytes. With
// kernel.xsaveOn set: XSAVE/XRSTOR of every state component XCR0 enables
// (the requested-feature bitmap EDX:EAX is all ones; Intel SDM Vol. 1
// 13.7, 13.8), the XSAVE header zeroed first so that XRSTOR finds XCOMP_BV
// and the reserved header bytes zero (Vol. 1 13.4.2: the area is reused
// stack memory). Without it, FXSAVE/FXRSTOR of x87 and SSE. They clobber
// AX and DX; skip and done are labels unique within the function.

#define SAVE_EXTENDED(off, skip, done) \
	CMPB	·xsaveOn(SB), $0; \
	JEQ	skip; \
	MOVQ	$0, (off+const_XSAVE_HEADER)(SP); \
	MOVQ	$0, (off+const_XSAVE_HEADER+8)(SP); \
	MOVQ	$0, (off+const_XSAVE_HEADER+16)(SP); \
	MOVQ	$0, (off+const_XSAVE_HEADER+24)(SP); \
	MOVQ	$0, (off+const_XSAVE_HEADER+32)(SP); \
	MOVQ	$0, (off+const_XSAVE_HEADER+40)(SP); \
	MOVQ	$0, (off+const_XSAVE_HEADER+48)(SP); \
	MOVQ	$0, (off+const_XSAVE_HEADER+56)(SP); \
	MOVL	$-1, AX; \
	MOVL	$-1, DX; \
	XSAVE64	off(SP); \
	JMP	done; \
skip: \
	FXSAVE64	off(SP); \
done:

#define RESTORE_EXTENDED(off, skip, done) \
	CMPB	·xsaveOn(SB), $0; \
	JEQ	skip; \
	MOVL	$-1, AX; \
	MOVL	$-1, DX; \
	XRSTOR64	off(SP); \
	JMP	done; \
skip: \
	FXRSTOR64	off(SP); \
done:
