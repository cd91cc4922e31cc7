// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "go_asm.h"
#include "go_tls.h"
#include "textflag.h"

// _rt0_amd64_tamago is the ELF entry point. A PVH loader enters it in 32-bit
// protected mode with paging off: a rel32 JMP encodes the same in both
// modes, so it can hand over to the CPU package at once.
TEXT _rt0_amd64_tamago(SB),NOSPLIT|NOFRAME,$0
	JMP	runtime∕goos·CPUInit(SB)

// _rt0_tamago_start is entered by the CPU package in long mode, interrupts
// masked or not, with SP at RamStart+RamSize-RamStackOffset. There are no
// arguments and no environment.
//
// Before the runtime reads the processor's features (internal/cpu, in
// schedinit) it enables the XSAVE feature set with the AVX state, as an
// operating system does, when CPUID says the processor has both (Intel SDM
// Vol. 1 13.3 "Enabling the XSAVE Feature Set and XSAVE-Enabled
// Features"): CR4.OSXSAVE (bit 18, Vol. 3A 2.5), then XCR0 = x87 | SSE |
// AVX (bits 0-2, Vol. 3A 2.6). internal/cpu then reports AVX and AVX2, and
// memmove and the crypto packages use them. An interrupt handler that runs
// Go code must then save the YMM state with XSAVE, not FXSAVE (pagesnap's
// kernel entries do). Without XSAVE or AVX nothing changes.
TEXT _rt0_tamago_start(SB),NOSPLIT|NOFRAME,$0
	MOVL	$1, AX
	XORL	CX, CX
	CPUID
	ANDL	$(1<<26 | 1<<28), CX	// CPUID.01H:ECX.XSAVE[26], .AVX[28]
	CMPL	CX, $(1<<26 | 1<<28)
	JNE	noxsave
	MOVQ	CR4, AX
	ORQ	$(1<<18), AX		// CR4.OSXSAVE
	MOVQ	AX, CR4
	XORL	CX, CX			// XCR0
	XORL	DX, DX
	MOVL	$7, AX			// x87 | SSE | AVX
	XSETBV
noxsave:
	MOVQ	$0, DI	// argc
	MOVQ	$0, SI	// argv
	JMP	runtime·rt0_go(SB)

// settls sets the FS base so that -8(FS) is m.tls[0] (the ELF TLS model
// the compiler uses for GOOS=tamago, as on linux). DI = &m.tls[0].
// Intel SDM Vol. 4, 2.1: IA32_FS_BASE is MSR C000_0100H.
TEXT runtime·settls(SB),NOSPLIT,$0
	ADDQ	$8, DI
	MOVQ	DI, AX
	MOVQ	DI, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
	RET

// WakeG(AX = g) records g in pendingWake (see os_tamago.go) and returns
// AX = 1, or AX = 0 when g is nil. Called from interrupt handlers: it
// touches no stack and takes no lock; an aligned 8-byte store is atomic.
TEXT runtime·WakeG(SB),NOSPLIT|NOFRAME,$0
	CMPQ	AX, $0
	JEQ	none
	MOVQ	AX, runtime·pendingWake(SB)
	MOVQ	$1, AX
none:
	RET
