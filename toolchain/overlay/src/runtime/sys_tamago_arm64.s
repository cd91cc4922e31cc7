// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "go_asm.h"
#include "textflag.h"

// _rt0_arm64_tamago is the ELF entry point. The loader (QEMU -kernel, a
// boot ROM) enters it with the MMU off; the CPU package's cpuinit sets up
// the processor and the stack, then enters _rt0_tamago_start.
TEXT _rt0_arm64_tamago(SB),NOSPLIT|NOFRAME,$0
	B	runtime∕goos·CPUInit(SB)

// _rt0_tamago_start is entered by the CPU package at EL1 with RSP at
// RamStart+RamSize-RamStackOffset (16-byte aligned). There are no
// arguments and no environment. The g register (R28) needs no set-up and
// no TLS register is used: rt0_go loads g0 into R28, and with cgo off
// (GOOS=tamago never has cgo) save_g and load_g do nothing.
TEXT _rt0_tamago_start(SB),NOSPLIT|NOFRAME,$0
	MOVD	$0, R0	// argc
	MOVD	$0, R1	// argv
	B	runtime·rt0_go(SB)

// WakeG(R0 = g) records g in pendingWake (see os_tamago.go) and returns
// R0 = 1, or R0 = 0 when g is nil. Called from interrupt handlers: it
// touches no stack, takes no lock and clobbers only R0 and R27 (REGTMP,
// for the store to a global); an aligned 8-byte store is single-copy
// atomic (Arm ARM B2.2.1).
TEXT runtime·WakeG(SB),NOSPLIT|NOFRAME,$0
	CBZ	R0, none
	MOVD	R0, runtime·pendingWake(SB)
	MOVD	$1, R0
none:
	RET
