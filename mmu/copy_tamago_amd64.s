//go:build tamago

#include "textflag.h"

// func copyWords(dst, src, n uint64)
//
// With AVX enabled by the kernel (avxCopy: CPUID.1:ECX.AVX and OSXSAVE,
// XCR0 bits 1 and 2 set; SDM Vol. 1 14.3) and n a multiple of 128: 128
// bytes per iteration with VMOVDQU (SDM Vol. 2B, MOVDQU/VMOVDQU8/16/32/64,
// 256-bit forms: 32 bytes per instruction), Y0-Y3, then VZEROUPPER (SDM
// Vol. 1 14.1.3: no SSE transition penalty in the caller). The kernel's
// fault and interrupt entries save the AVX state with XSAVE when AVX is
// on, so the fault path may use YMM registers then.
//
// Otherwise REP MOVSQ (SDM Vol. 2B, MOVS/MOVSB/MOVSW/MOVSD/MOVSQ, and
// REP): RCX quadwords from [RSI] to [RDI], upwards (CLD: RFLAGS.DF=0,
// which Go code keeps anyway; the interrupted code's RFLAGS comes back
// with IRET), general-purpose registers only.
TEXT ·copyWords(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	CMPB	·avxCopy(SB), $1
	JNE	words
	TESTQ	$127, CX
	JNZ	words
	TESTQ	CX, CX
	JZ	done
	XORQ	BX, BX
loop128:
	VMOVDQU	0(SI)(BX*1), Y0
	VMOVDQU	32(SI)(BX*1), Y1
	VMOVDQU	64(SI)(BX*1), Y2
	VMOVDQU	96(SI)(BX*1), Y3
	VMOVDQU	Y0, 0(DI)(BX*1)
	VMOVDQU	Y1, 32(DI)(BX*1)
	VMOVDQU	Y2, 64(DI)(BX*1)
	VMOVDQU	Y3, 96(DI)(BX*1)
	ADDQ	$128, BX
	CMPQ	BX, CX
	JB	loop128
	VZEROUPPER
done:
	RET
words:
	SHRQ	$3, CX
	CLD
	REP;	MOVSQ
	RET

// func osAVX() bool
//
// CPUID.1:ECX bit 28 (AVX) and bit 27 (OSXSAVE: the kernel set
// CR4.OSXSAVE), then XGETBV(0) bits 1 (SSE) and 2 (AVX) set in XCR0 (SDM
// Vol. 1 14.3, "Detection of Intel AVX Instructions").
TEXT ·osAVX(SB),NOSPLIT,$0-1
	MOVL	$1, AX
	XORL	CX, CX
	CPUID
	MOVL	CX, R8
	ANDL	$(1<<27 | 1<<28), R8
	CMPL	R8, $(1<<27 | 1<<28)
	JNE	no
	XORL	CX, CX
	XGETBV
	ANDL	$6, AX
	CMPL	AX, $6
	JNE	no
	MOVB	$1, ret+0(FP)
	RET
no:
	MOVB	$0, ret+0(FP)
	RET
