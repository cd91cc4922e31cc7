//go:build tamago && amd64

#include "textflag.h"

// func writeCR3(v uint64)
TEXT ·writeCR3(SB),NOSPLIT,$0-8
	MOVQ	v+0(FP), AX
	MOVQ	AX, CR3
	RET

// func setCR0WP()
TEXT ·setCR0WP(SB),NOSPLIT,$0
	MOVQ	CR0, AX
	ORQ	$(1<<16), AX	// CR0.WP: supervisor writes honour R/W (SDM Vol. 3A 2.5)
	MOVQ	AX, CR0
	RET

// func cli() (flags uint64)
TEXT ·cli(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ	AX
	MOVQ	AX, flags+0(FP)
	CLI
	RET

// func restoreFlags(flags uint64)
TEXT ·restoreFlags(SB),NOSPLIT,$0-8
	MOVQ	flags+0(FP), AX
	PUSHQ	AX
	POPFQ
	RET

// func lgdt(ptr uint64)
TEXT ·lgdt(SB),NOSPLIT,$0-8
	MOVQ	ptr+0(FP), AX
	LGDT	(AX)
	RET

// func ltr(sel uint16)
TEXT ·ltr(SB),NOSPLIT,$0-2
	MOVW	sel+0(FP), AX
	LTR	AX
	RET

// func sidt(ptr uint64)
TEXT ·sidt(SB),NOSPLIT,$0-8
	MOVQ	ptr+0(FP), AX
	SIDT	(AX)
	RET

// func halt()
TEXT ·halt(SB),NOSPLIT,$0
	CLI
loop:
	HLT
	JMP	loop

// func readCR4() uint64
TEXT ·readCR4(SB),NOSPLIT,$0-8
	MOVQ	CR4, AX
	MOVQ	AX, ret+0(FP)
	RET

// func xgetbv() uint64
TEXT ·xgetbv(SB),NOSPLIT,$0-8
	XORL	CX, CX
	XGETBV
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	subleaf+4(FP), CX
	CPUID
	MOVL	AX, eax+8(FP)
	MOVL	BX, ebx+12(FP)
	MOVL	CX, ecx+16(FP)
	MOVL	DX, edx+20(FP)
	RET
