// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

// The GOOS=tamago operating system layer: there is no operating system.
// The board and CPU packages provide the hooks declared in runtime/goos;
// everything else (threads, signals, files, environment) is absent.

package runtime

import (
	"internal/abi"
	"internal/cpu"
	"internal/runtime/atomic"
	"runtime/goos"
	"unsafe"
)

type mOS struct {
	// waitsema counts pending semawakeups for this M (lock_sema.go).
	waitsema uint32
}

type sigset struct{}

// gsignalStack is unused: there are no signals.
type gsignalStack struct{}

// Signals: there are no signal handlers, but a program can send itself a
// signal (syscall.Kill with its own pid), which package os/signal receives
// (sigqueue_tamago.go). 65 as on Linux: os/signal's numSig.
const _NSIG = 65

const _SIGSEGV = 0xb

const preemptMSupported = false

func osinit() {
	physPageSize = 4096
	numCPUStartup = 1
	goos.Hwinit0()
	initBloc()
	if goos.Bloc != 0 {
		bloc = memRound(goos.Bloc)
		blocMax = bloc
	}
	goos.InitRNG()
	fireSleep = fireSleepNow
}

// heapLimit is the end of the memory sbrk may hand out: the initial
// stack (g0 of m0, 64 KiB below the stack pointer set by the CPU package,
// see rt0_go) sits above it, with a guard gap.
func heapLimit() uintptr {
	return uintptr(goos.RamStart+goos.RamSize-goos.RamStackOffset) - 128<<10
}

// sbrk grows the heap over the fixed RAM window.
func sbrk(n uintptr) unsafe.Pointer {
	bl := bloc
	n = memRound(n)
	if bl+n < bl || bl+n > heapLimit() {
		return nil
	}
	if bl+n > blocMax {
		blocMax = bl + n
	}
	bloc += n
	return unsafe.Pointer(bl)
}

// goenvs sets an empty environment: there is none.
func goenvs() {
	envs = []string{}
}

func getCPUCount() int32 { return 1 }

func mpreinit(mp *m) {
	mp.gsignal = malg(32 * 1024)
	mp.gsignal.m = mp
}

func minit()            {}
func unminit()          {}
func mdestroy(mp *m)    {}
func initsig(bool)      {}
func sigdisable(uint32) {}
func sigenable(uint32)  {}
func sigignore(uint32)  {}

//go:nosplit
func sigsave(p *sigset) {}

//go:nosplit
func msigrestore(sigmask sigset) {}

//go:nosplit
//go:nowritebarrierrec
func clearSignalHandlers() {}

//go:nosplit
func sigblock(exiting bool) {}

func signame(sig uint32) string { return "" }

func setProcessCPUProfiler(hz int32) {}
func setThreadCPUProfiler(hz int32)  {}

func preemptM(mp *m) {}

func crash() { abort() }

func sigpanic() {
	gp := getg()
	if !canpanic() {
		throw("unexpected signal during runtime execution")
	}
	gp.sig = _SIGSEGV
	panicmem()
}

// newosproc starts an M on another processor through goos.Task.
//
//go:nowritebarrier
func newosproc(mp *m) {
	if goos.Task == nil {
		throw("newosproc: no goos.Task: this board runs one processor")
	}
	goos.Task(unsafe.Pointer(mp.g0.stack.hi), unsafe.Pointer(mp), unsafe.Pointer(mp.g0), unsafe.Pointer(abi.FuncPCABI0(mstart)))
}

//go:nosplit
func exitThread(wait *atomic.Uint32) {
	throw("exitThread")
}

//go:nosplit
func osyield() {}

//go:nosplit
func osyield_no_g() {}

//go:nosplit
func usleep(usec uint32) {
	end := nanotime() + int64(usec)*1000
	for nanotime() < end {
	}
}

//go:nosplit
func usleep_no_g(usec uint32) {
	usleep(usec)
}

//go:nosplit
func nanotime1() int64 {
	return goos.Nanotime()
}

// wallOffset is added to the monotonic clock to give the wall clock.
var wallOffset int64

func walltime() (sec int64, nsec int32) {
	ns := nanotime() + wallOffset
	return ns / 1e9, int32(ns % 1e9)
}

//go:linkname syscall_now syscall.now
func syscall_now() (sec int64, nsec int32) {
	sec, nsec, _ = time_now()
	return
}

func exit(code int32) {
	if goos.Exit != nil {
		goos.Exit(code)
	}
	for {
		if goos.Idle != nil {
			goos.Idle(1<<63 - 1)
		}
	}
}

// write1 sends stdout and stderr to the console.
//
//go:nosplit
func write1(fd uintptr, p unsafe.Pointer, n int32) int32 {
	if fd != 1 && fd != 2 {
		return -9 // EBADF
	}
	b := unsafe.Slice((*byte)(p), n)
	for _, c := range b {
		goos.Printk(c)
	}
	return n
}

func open(name *byte, mode, perm int32) int32        { return -2 } // ENOENT
func closefd(fd int32) int32                         { return -9 } // EBADF
func read(fd int32, p unsafe.Pointer, n int32) int32 { return -9 } // EBADF

func readRandom(r []byte) int {
	goos.GetRandomData(r)
	return len(r)
}

//go:linkname os_sigpipe os.sigpipe
func os_sigpipe() {}

// Semaphores for lock_sema.go and lock_spinbit.go. With one processor a
// sleeping M can only be woken by an interrupt, so semasleep idles the
// processor through goos.Idle between checks.

//go:nosplit
func semacreate(mp *m) {}

//go:nosplit
func semasleep(ns int64) int32 {
	mp := getg().m
	var deadline int64
	if ns >= 0 {
		deadline = nanotime() + ns
	}
	for {
		v := atomic.Load(&mp.waitsema)
		if v > 0 && atomic.Cas(&mp.waitsema, v, v-1) {
			return 0
		}
		if ns >= 0 {
			// A timed sleep is the idle wait for the next timer:
			// an interrupt that woke a goroutine ends it early.
			if atomic.Loaduintptr(&pendingWake) != 0 {
				return -1
			}
			if nanotime() >= deadline {
				return -1
			}
		}
		if goos.Idle != nil {
			until := int64(1<<63 - 1)
			if ns >= 0 {
				until = deadline
			}
			goos.Idle(until)
		}
	}
}

//go:nosplit
func semawakeup(mp *m) {
	atomic.Xadd(&mp.waitsema, 1)
}

// pendingWake is the g that an interrupt asked to wake (WakeG), to be made
// runnable by the scheduler (beforeIdle) outside interrupt context.
var pendingWake uintptr

// WakeG is called by interrupt handlers (assembly, sys_tamago_*.s) to wake
// the goroutine whose g is in the first argument register; it records it
// in pendingWake for beforeIdle.
//
//go:linkname WakeG
func WakeG()

// beforeIdle fires the sleep timer of a goroutine woken by WakeG.
func beforeIdle(now, pollUntil int64) (*g, bool) {
	p := atomic.Loaduintptr(&pendingWake)
	if p == 0 || !atomic.Casuintptr(&pendingWake, p, 0) {
		return nil, false
	}
	gp := (*g)(unsafe.Pointer(p))
	if gp.timer != nil && readgstatus(gp) == _Gwaiting && gp.waitreason == waitReasonSleep {
		fireSleep(gp.timer, now)
		return nil, true
	}
	return nil, false
}

func checkTimeouts() {}

// fireSleep makes the sleep timer t expire now. beforeIdle runs with a P,
// so the write barriers in (*timer).modify are allowed; the call is
// indirect because the static nowritebarrierrec check of findRunnable
// cannot know that.
var fireSleep func(t *timer, now int64)

func fireSleepNow(t *timer, now int64) {
	t.reset(now, 0)
}

// Asleep reports whether the goroutine gp (from GetG) is blocked in
// time.Sleep.
func Asleep(gp uint) bool {
	g := (*g)(unsafe.Pointer(uintptr(gp)))
	return readgstatus(g) == _Gwaiting && g.waitreason == waitReasonSleep
}

// GetG returns the current goroutine and its M, as addresses.
//
//go:nosplit
func GetG() (gp uint, mp uint) {
	g := getg()
	return uint(uintptr(unsafe.Pointer(g))), uint(uintptr(unsafe.Pointer(g.m)))
}

// MemRegion returns the memory the runtime owns: [start, end).
func MemRegion() (start uint, end uint) {
	return goos.RamStart, goos.RamStart + goos.RamSize
}

// TextRegion returns where the program text is: [start, end).
func TextRegion() (start uint, end uint) {
	return uint(firstmoduledata.text), uint(firstmoduledata.etext)
}

// CPU returns the processor's name.
func CPU() string {
	if n := cpu.Name(); n != "" {
		return n
	}
	return GOARCH
}

// hwinit1 runs the board's initialization once the heap exists.
func hwinit1() {
	goos.Hwinit1()
}

// syscall_consoleWrite backs syscall.Write for standard output and error.
//
//go:linkname syscall_consoleWrite syscall.consoleWrite
func syscall_consoleWrite(b []byte) {
	if len(b) > 0 {
		write1(1, unsafe.Pointer(&b[0]), int32(len(b)))
	}
}

// getRandomData is the board's random source, for crypto/internal/sysrand.
//
//go:linkname getRandomData
func getRandomData(r []byte) {
	goos.GetRandomData(r)
}
