// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago && amd64

package runtime

import (
	"internal/abi"
	"unsafe"
)

// tickPushCall makes the interrupted context call asyncPreempt as if the
// instruction at resumePC had called it (pushCall in signal_amd64.go):
// the return address is pushed on the goroutine's stack. lr and fp are
// not used on amd64. See TickPreempt.
//
//go:nosplit
func tickPushCall(pc, sp, lr, fp *uint64, resumePC uintptr, prepareWrite func(addr uint64) bool) bool {
	s := *sp - 8
	if prepareWrite != nil && !prepareWrite(s) {
		return false
	}
	*(*uint64)(unsafe.Pointer(uintptr(s))) = uint64(resumePC)
	*sp = s
	*pc = uint64(abi.FuncPCABI0(asyncPreempt))
	return true
}

// FaultPanic turns a page fault taken from Go code into a call of
// sigpanic, so that a nil or invalid pointer dereference becomes a
// run-time panic that recover can catch, as on other systems (the amd64
// counterpart of the arm64 FaultPanic). frame is the address of the saved
// RIP in the processor's interrupt frame (RIP, CS, RFLAGS, RSP, SS: Intel
// SDM Vol. 3A 6.14.1), which FaultPanic rewrites: the return address (the
// faulting RIP) is pushed on the interrupted stack and RIP becomes
// sigpanic, as if the faulting instruction had called it. addr is the
// fault address (CR2).
//
// It returns false, changing nothing, when the fault cannot become a
// panic: no goroutine, a system goroutine (g0), runtime state that cannot
// panic (locks held, allocating, throwing, preemption off, dying), or an
// RIP outside Go code; the caller then reports the fault as fatal.
//
// Called by a board's or kernel's page-fault handler on its own stack with
// interrupts off: nosplit (the stack is not the goroutine's), no
// allocation, scalar stores only (no write barriers), no locks.
//
//go:nosplit
func FaultPanic(frame uintptr, addr uint64) bool {
	gp := getg()
	if gp == nil || gp.m == nil || gp != gp.m.curg {
		return false
	}
	mp := gp.m
	if mp.locks != 0 || mp.mallocing != 0 || mp.throwing != throwTypeNone || mp.preemptoff != "" || mp.dying != 0 {
		return false
	}
	pc := (*uint64)(unsafe.Pointer(frame))
	sp := (*uint64)(unsafe.Pointer(frame + 3*8))
	if !findfunc(uintptr(*pc)).valid() {
		return false
	}
	gp.sig = _SIGSEGV
	gp.sigcode0 = 1 // SEGV_MAPERR
	gp.sigcode1 = uintptr(addr)
	gp.sigpc = uintptr(*pc)
	s := *sp - 8
	*(*uint64)(unsafe.Pointer(uintptr(s))) = *pc
	*sp = s
	*pc = uint64(abi.FuncPCABIInternal(sigpanic))
	return true
}
