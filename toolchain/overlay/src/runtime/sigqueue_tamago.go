// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package runtime

import _ "unsafe" // for go:linkname

// Signals on GOOS=tamago. There are no processes and no signal handlers:
// the only signal is one a program sends itself with syscall.Kill (its own
// pid), from a goroutine. sigsend queues it as a handler would on Unix, and
// os/signal's receiving goroutine (signal_recv) waits for it parked, not in
// notetsleepg, which would hand the P to a second M that a one-CPU board
// cannot start.

var sigTamago struct {
	lock   mutex
	waiter *g   // the goroutine parked in signal_recv, or nil
	woken  bool // a wake-up that came before the receiver parked
}

// sigParkTamago parks signal_recv's goroutine until sigWakeTamago.
func sigParkTamago() {
	lock(&sigTamago.lock)
	if sigTamago.woken {
		// sigsend ran between signal_recv's state change and here (the
		// receiver was preempted): do not sleep through it.
		sigTamago.woken = false
		unlock(&sigTamago.lock)
		return
	}
	sigTamago.waiter = getg()
	goparkunlock(&sigTamago.lock, waitReasonChanReceive, traceBlockSystemGoroutine, 1)
}

// sigWakeTamago readies signal_recv's goroutine (sigsend's sigReceiving
// case).
func sigWakeTamago() {
	lock(&sigTamago.lock)
	gp := sigTamago.waiter
	sigTamago.waiter = nil
	if gp == nil {
		sigTamago.woken = true
	}
	unlock(&sigTamago.lock)
	if gp != nil {
		goready(gp, 1)
	}
}

// syscall_signalSelf delivers signal s to this program (syscall.Kill with
// its own pid). It reports whether os/signal wanted s (signal.Notify);
// false means the signal has no receiver.
//
//go:linkname syscall_signalSelf syscall.signalSelf
func syscall_signalSelf(s uint32) bool {
	return sigsend(s)
}
