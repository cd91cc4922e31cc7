// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package runtime

// Preemption by a periodic timer interrupt. There is no sysmon and there
// are no signals: the board's timer interrupt handler calls TickPreempt,
// which plays the part of sysmon's retake (a goroutine that has run for
// forcePreemptNS gets a preemption request) and of preemptM plus the
// signal handler's doSigPreempt (if the interrupted code is at an
// asynchronous safe point, a call to asyncPreempt is injected into the
// interrupted context, which the handler's exception return resumes).

// tickSliceNS is the time slice: a goroutine that has run this long by
// the clock when a tick comes is asked to yield. It is forcePreemptNS (10
// ms, sysmon's slice on other systems) less a quarter, so that a tick that
// comes a little early by the clock (the timer and the clock are
// calibrated separately) still ends a 10 ms slice. A slice starts when the
// scheduler ran the goroutine: right after the previous tick if that tick
// preempted the one before (so goroutines that never block take turns of
// one tick period, 10 ms at 100 Hz), else at the first tick that sees it
// running (a goroutine that woke between ticks runs 10 to 20 ms).
const tickSliceNS = forcePreemptNS * 3 / 4

// TickPreempt is called by a board's periodic timer interrupt handler, in
// interrupt context: interrupts masked, on the handler's own stack, with
// the interrupted code's g still current (getg) and its registers saved in
// the handler's frame. pc, sp, lr and fp point at the saved program
// counter, stack pointer, link register and frame pointer register of the
// interrupted code (lr and fp are used on arm64 only and may be nil on
// amd64); TickPreempt rewrites them when it injects the call.
//
// When the running goroutine has had its time slice (tickSliceNS; the
// scheduler's pp.schedtick tells when it ran a goroutine anew, as in
// sysmon's retake), or a timer is due on its P, it sets the cooperative
// request (gp.preempt, stackguard0 = stackPreempt, as preemptone) and, if
// the interrupted PC is an asynchronous safe point (isAsyncSafePoint, the
// runtime's own checks), injects a call to asyncPreempt (as pushCall on linux). Before it stores
// to the goroutine's stack it calls prepareWrite, if not nil, with each
// address it will store to; if prepareWrite returns false it does not
// inject (the cooperative request stays). It reports whether it injected,
// and retry: the goroutine is due for preemption but was not at a safe
// point (or prepareWrite refused). The board should then interrupt again
// soon (tens of microseconds) rather than a whole tick later: a loop that
// spends most of its instructions at unsafe points (arm64 sequences using
// REGTMP, atomics) would otherwise escape preemption for many ticks, and
// under an emulator that takes interrupts only between translated blocks
// it may land on the same unsafe instruction at every tick.
//
// Rules of interrupt context: nosplit (the stack is not the goroutine's),
// no allocation, only scalar stores (no write barriers), no locks. The
// runtime functions it calls that are not nosplit (isAsyncSafePoint and
// the pc-table readers) run with the interrupted g's stackguard0 zeroed
// for the duration, so that their stack checks, made against a stack they
// are not on, always pass; the handler's stack is large enough for them.
//
//go:nosplit
func TickPreempt(pc, sp, lr, fp *uint64, prepareWrite func(addr uint64) bool) (injected, retry bool) {
	// From the first tick on, runnext may be used (see tickRetake).
	tickRetake = true
	gp := getg()
	mp := gp.m
	if mp == nil || gp == mp.g0 || gp == mp.gsignal || mp.curg != gp || mp.p == 0 {
		// The scheduler, the idle loop or a switch between goroutines
		// was interrupted: nothing to preempt.
		return false, false
	}
	pp := mp.p.ptr()

	// retake: a new time slice starts whenever the scheduler ran a
	// goroutine on this P since the previous tick. With no sysmon, the
	// syscall fields of pp.sysmontick keep that tick's time
	// (syscallwhen) and whether it asked for a preemption (syscalltick).
	now := nanotime()
	pd := &pp.sysmontick
	prev, asked := pd.syscallwhen, pd.syscalltick != 0
	pd.syscallwhen, pd.syscalltick = now, 0
	if t := pp.schedtick; pd.schedtick != t {
		pd.schedtick = t
		pd.schedwhen = now
		if asked && prev != 0 {
			// The scheduler ran because the previous tick asked it
			// to: this goroutine's slice began right after that tick.
			pd.schedwhen = prev
		}
	}
	// A timer that is due (a time.Sleep that ended, say) is run by the
	// scheduler, which a goroutine that never blocks keeps out: with no
	// sysmon to wake another M, the tick asks the running goroutine to
	// yield as soon as a timer is due, whatever its slice, so a sleeper
	// wakes at most one tick late. The two loads are timers.wakeTime's,
	// written out: it is not nosplit.
	due := false
	next, when := pp.timers.minWhenModified.Load(), pp.timers.minWhenHeap.Load()
	if when == 0 || (next != 0 && next < when) {
		when = next
	}
	if when != 0 && when <= now {
		due = true
	}
	if !due && pd.schedwhen+tickSliceNS > now {
		return false, false
	}
	pd.syscalltick = 1

	ok, resumePC, async := false, uintptr(0), false
	if debug.asyncpreemptoff == 0 && readgstatus(gp)&^_Gscan == _Grunning {
		async = true
		// gp.preempt is cleared so that releasem (pcvalue) does not set
		// stackguard0 back to stackPreempt while the checks run.
		gp.preempt = false
		gp.stackguard0 = 0
		var l uintptr
		if lr != nil {
			l = uintptr(*lr)
		}
		ok, resumePC = isAsyncSafePoint(gp, uintptr(*pc), uintptr(*sp), l)
	}

	// preemptone: the cooperative request, honoured at the next
	// function prologue or by the scheduler.
	gp.preempt = true
	gp.stackguard0 = stackPreempt
	if !ok {
		return false, async
	}
	pp.preempt = true
	if !tickPushCall(pc, sp, lr, fp, resumePC, prepareWrite) {
		return false, true
	}
	return true, false
}
