//go:build tamago && arm64

// Command boardtest is a GOOS=tamago arm64 kernel for the virt board's
// exception handling and runtime hooks, booted by the board's host tests.
// The mode, set with -ldflags "-X main.mode=...", picks what it does:
//
//	recover  faults that must become recoverable panics, an abort
//	         handler resolving a load, and runtime.WakeG ending a
//	         time.Sleep at once; one
//	         "boardtest: <name>: ok|FAIL ..." line each, then exit 0 or 1
//	panic    an unrecovered nil dereference (the runtime exits with 2)
//	undef    an undefined instruction (the board reports it, exits with 3)
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"github.com/pagesnap/pagesnap/board/aarch64"
	_ "github.com/pagesnap/pagesnap/board/qemu/virt"
)

var mode = "recover"

type pair struct{ a, b int }

var nilPair *pair

type stringer struct{ v int }

func (s stringer) String() string { return fmt.Sprint(s.v) }

// udf executes a permanently undefined instruction (udf_arm64.s).
func udf()

// probeLoad loads from addr with R19 set around the load and returns the
// loaded value and R19 afterwards (udf_arm64.s).
func probeLoad(addr uintptr) (v, r19 uint64)

// handledAddr is the address whose loads abortHandler resolves.
const handledAddr = 0x1000

// abortHandler resolves loads from handledAddr: the load yields 42 and
// execution continues after it (an A64 instruction is 4 bytes).
//
//go:nosplit
func abortHandler(f *aarch64.ExceptionFrame) bool {
	const wnr = 1 << 6 // ESR_EL1.ISS.WnR: the access was a write
	if f.FAR != handledAddr || f.ESR&wnr != 0 {
		return false
	}
	f.X[0] = 42
	f.ELR += 4
	return true
}

// wakeG calls runtime.WakeG as an interrupt handler would (R0 = g) and
// returns its R0 (udf_arm64.s).
func wakeG(gp uint) bool

// checkWake puts a goroutine to sleep for an hour, wakes it with
// runtime.WakeG and returns how long it slept, or an error.
func checkWake() (string, error) {
	gp := make(chan uint)
	done := make(chan time.Duration)
	go func() {
		g, _ := runtime.GetG()
		gp <- g
		start := time.Now()
		time.Sleep(time.Hour)
		done <- time.Since(start)
	}()
	g := <-gp
	for i := 0; !runtime.Asleep(g); i++ {
		if i > 1e6 {
			return "", fmt.Errorf("the goroutine never went to sleep")
		}
		runtime.Gosched()
	}
	if !wakeG(g) {
		return "", fmt.Errorf("WakeG returned 0 for a goroutine")
	}
	if wakeG(0) {
		return "", fmt.Errorf("WakeG returned 1 for nil")
	}
	select {
	case d := <-done:
		if d > time.Second {
			return "", fmt.Errorf("slept %v", d)
		}
		return "woken", nil
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("not woken after 10 s")
	}
}

// recovered runs f and returns the run-time error it panicked with.
func recovered(f func()) (msg string) {
	defer func() {
		if e, ok := recover().(error); ok {
			msg = e.Error()
		}
	}()
	f()
	return ""
}

const nilMsg = "runtime error: invalid memory address or nil pointer dereference"

func check(name string, got, want string) bool {
	if got != want {
		fmt.Printf("boardtest: %s: FAIL got %q, want %q\n", name, got, want)
		return false
	}
	fmt.Printf("boardtest: %s: ok\n", name)
	return true
}

func main() {
	switch mode {
	case "panic":
		fmt.Println(nilPair.b)
	case "undef":
		udf()
	}
	ok := check("nil-load", recovered(func() { fmt.Println(nilPair.b) }), nilMsg)
	ok = check("nil-store", recovered(func() { nilPair.a = 1 }), nilMsg) && ok
	var f func()
	ok = check("nil-func", recovered(func() { f() }), nilMsg) && ok
	// Beyond the 39-bit address space of the boot tables.
	far := (*int)(unsafe.Add(unsafe.Pointer(nil), 1<<40))
	ok = check("unmapped", recovered(func() { fmt.Println(*far) }), nilMsg) && ok
	var p *stringer
	ok = check("fmt-nil-stringer", fmt.Sprintf("%v", p), "<nil>") && ok
	aarch64.AbortHandler = abortHandler
	v, r19 := probeLoad(handledAddr)
	ok = check("abort-handler", fmt.Sprintf("%d %#x", v, r19), "42 0x1234") && ok
	// Faults the handler declines still become panics.
	ok = check("abort-declined", recovered(func() { probeLoad(handledAddr + 8) }), nilMsg) && ok
	aarch64.AbortHandler = nil

	woke, err := checkWake()
	if err != nil {
		woke = err.Error()
	}
	ok = check("wakeg", woke, "woken") && ok
	// The goroutine still works after the faults.
	ok = check("after", strings.Repeat("x", 3), "xxx") && ok
	if !ok {
		os.Exit(1)
	}
	os.Exit(0)
}
