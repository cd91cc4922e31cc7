// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago && arm64

package runtime

import (
	"internal/abi"
	"unsafe"
)

// cputicks returns nanotime: the board's clock (the Arm generic timer) is
// what a CPU tick counter would be read from anyway, and the profiler and
// the scheduler only need a monotonic, roughly proportional count.
//
//go:nosplit
func cputicks() int64 {
	return nanotime()
}

// FaultPanic turns a synchronous memory fault (a data or instruction abort
// taken from Go code) into a call of sigpanic, so that a nil or invalid
// pointer dereference becomes a run-time panic that recover can catch, as
// on other systems; sigpanic throws instead when the faulting code cannot
// panic (runtime code, g0, locks held).
//
// gp is the interrupted goroutine (R28); pc, lr and sp point at the saved
// ELR, X30 and SP of the interrupted code, which FaultPanic rewrites: the
// exception return then enters sigpanic as if the faulting instruction had
// called it. addr is the fault address (FAR). It returns false, changing
// nothing, when there is no goroutine to panic on; the caller reports the
// fault as fatal.
//
// Board exception handlers call it on their own stack with interrupts
// masked, so it is nosplit (the stack is not gp's), allocates nothing and
// writes only scalar fields (no write barriers), and it takes no lock.
//
//go:nosplit
func FaultPanic(gp uintptr, pc, lr, sp *uint64, addr uint64) bool {
	g := (*g)(unsafe.Pointer(gp))
	if g == nil || g.m == nil || *sp&15 != 0 {
		return false
	}
	g.sig = _SIGSEGV
	g.sigcode0 = 1 // SEGV_MAPERR
	g.sigcode1 = uintptr(addr)
	g.sigpc = uintptr(*pc)

	// Save LR below the stack pointer (keeping 16-byte alignment) so that
	// a fault in a frameless leaf function still unwinds.
	*sp -= 16
	*(*uint64)(unsafe.Pointer(uintptr(*sp))) = *lr

	// Make the faulting PC the caller of sigpanic, unless it is not code
	// (a call through a nil or bad function value) and LR is: then LR,
	// the return address of that call, is the better caller.
	faultPC := uintptr(*pc)
	if faultPC != 0 && (findfunc(faultPC).valid() || !findfunc(uintptr(*lr)).valid()) {
		*lr = uint64(faultPC)
	}
	*pc = uint64(abi.FuncPCABIInternal(sigpanic))
	return true
}

// tickPushCall makes the interrupted context call asyncPreempt as if the
// instruction at resumePC had called it (pushCall in signal_arm64.go): LR
// is saved at the new 16-byte aligned stack pointer and the frame pointer
// (R29) below it, for the frame-pointer checks; LR becomes resumePC. See
// TickPreempt.
//
//go:nosplit
func tickPushCall(pc, sp, lr, fp *uint64, resumePC uintptr, prepareWrite func(addr uint64) bool) bool {
	s := *sp - 16
	if prepareWrite != nil && (!prepareWrite(s-8) || !prepareWrite(s)) {
		return false
	}
	*(*uint64)(unsafe.Pointer(uintptr(s))) = *lr
	*(*uint64)(unsafe.Pointer(uintptr(s - 8))) = *fp
	*sp = s
	*lr = uint64(resumePC)
	*pc = uint64(abi.FuncPCABI0(asyncPreempt))
	return true
}
