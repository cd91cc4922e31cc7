// Command selftest is a GOOS=tamago kernel that checks the runtime on the
// board it boots on: allocation and garbage collection, goroutines and
// channels, timers, panics and a few standard-library packages. It prints
// one "selftest: <name>: ok|FAIL ..." line per check, then
// "selftest: PASS" or "selftest: FAIL", and ends the machine with status 0
// or 1: under QEMU amd64 microvm with isa-debug-exit the exit status is 1
// or 3, under QEMU arm64 virt with semihosting it is 0 or 1 (see the
// board files, board_amd64.go and board_arm64.go).
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var failed bool

// failForTest, set with -ldflags "-X main.failForTest=name", adds a check
// of that name that fails: tests use it to see the FAIL path and its exit
// status.
var failForTest string

func report(name string, err error) {
	if err != nil {
		failed = true
		fmt.Printf("selftest: %s: FAIL %v\n", name, err)
		return
	}
	fmt.Printf("selftest: %s: ok\n", name)
}

// sink keeps allocations reachable long enough to be real work for the GC.
var sink [][]byte

func checkGC() error {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const chunk = 64 << 10
	const total = 64 << 20
	for n := 0; n < total; n += chunk {
		b := make([]byte, chunk)
		b[0], b[chunk-1] = byte(n), byte(n>>8)
		sink = append(sink, b)
		if len(sink) > 64 { // keep at most 4 MiB live
			sink = sink[1:]
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	allocated := after.TotalAlloc - before.TotalAlloc
	fmt.Printf("selftest: gc: allocated %d MiB, NumGC %d -> %d (%d cycles), heap in use %d MiB\n",
		allocated>>20, before.NumGC, after.NumGC, cycles, after.HeapInuse>>20)
	if allocated < total {
		return fmt.Errorf("allocated %d bytes, want >= %d", allocated, total)
	}
	if cycles < 3 {
		return fmt.Errorf("%d GC cycles, want >= 3", cycles)
	}
	return nil
}

func checkGoroutines() error {
	const n = 1000
	// A ring of n goroutines: each adds its index to the running sum and
	// passes it on.
	first := make(chan int)
	in := first
	var wg sync.WaitGroup
	var started atomic.Int32
	for i := 1; i <= n; i++ {
		out := make(chan int)
		wg.Add(1)
		go func(i int, in <-chan int, out chan<- int) {
			defer wg.Done()
			started.Add(1)
			v := <-in
			out <- v + i
		}(i, in, out)
		in = out
	}
	first <- 0
	var sum int
	select {
	case sum = <-in:
	case <-time.After(30 * time.Second):
		return errors.New("ring did not complete in 30 s")
	}
	wg.Wait()
	want := n * (n + 1) / 2
	fmt.Printf("selftest: goroutines: %d goroutines, sum %d (want %d)\n", started.Load(), sum, want)
	if sum != want {
		return fmt.Errorf("sum %d, want %d", sum, want)
	}
	return nil
}

func checkSleep() error {
	start := time.Now()
	time.Sleep(100 * time.Millisecond)
	d := time.Since(start)
	fmt.Printf("selftest: sleep: time.Sleep(100ms) took %v\n", d)
	if d < 80*time.Millisecond || d > 120*time.Millisecond {
		return fmt.Errorf("slept %v, want 100ms +- 20%%", d)
	}
	// timers and select
	timer := time.NewTimer(20 * time.Millisecond)
	select {
	case <-timer.C:
	case <-time.After(5 * time.Second):
		return errors.New("timer did not fire")
	}
	return nil
}

func mustPanic(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func checkPanic() error {
	v := mustPanic(func() { panic("boom") })
	if v != "boom" {
		return fmt.Errorf("recovered %v, want boom", v)
	}
	var s []int
	v = mustPanic(func() { _ = s[3] })
	re, ok := v.(runtime.Error)
	if !ok || !strings.Contains(re.Error(), "index out of range") {
		return fmt.Errorf("recovered %v, want an index-out-of-range runtime.Error", v)
	}
	fmt.Printf("selftest: panic: recovered %q and %q\n", "boom", re.Error())
	return nil
}

func checkStdlib() error {
	sum := sha256.Sum256([]byte("abc"))
	if got, want := hex.EncodeToString(sum[:]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		return fmt.Errorf("sha256(abc) = %s, want %s", got, want)
	}
	if got := crc32.ChecksumIEEE([]byte("123456789")); got != 0xcbf43926 {
		return fmt.Errorf("crc32 = %#x, want 0xcbf43926", got)
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 0x0102030405060708)
	if b[0] != 8 || binary.BigEndian.Uint16(b[6:]) != 0x0201 {
		return fmt.Errorf("encoding/binary: %x", b)
	}
	x := []int{5, 2, 9, 1}
	sort.Ints(x)
	if !slices.Equal(x, []int{1, 2, 5, 9}) {
		return fmt.Errorf("sort: %v", x)
	}
	m := map[string]int{"a": 1, "b": 2, "c": 3}
	keys := slices.Sorted(maps.Keys(m))
	if strings.Join(keys, ",") != "a,b,c" {
		return fmt.Errorf("maps: %v", keys)
	}
	wrapped := fmt.Errorf("outer: %w", os.ErrNotExist)
	if !errors.Is(wrapped, os.ErrNotExist) {
		return errors.New("errors.Is through %w")
	}
	if _, err := os.Open("/nonexistent"); err == nil {
		return errors.New("os.Open succeeded without a file system")
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	count := 0
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			count++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if count != 100 {
		return fmt.Errorf("mutex count %d", count)
	}
	return nil
}

func main() {
	bootNS := time.Duration(0)
	if hz := counterFrequency(); hz != 0 {
		bootNS = time.Duration(float64(counter()) / float64(hz) * 1e9)
	}
	fmt.Printf("pagesnap selftest: %s/%s %s, %s, %s %d MHz\n", runtime.GOOS, runtime.GOARCH, runtime.Version(), runtime.CPU(), counterName, counterFrequency()/1e6)
	fmt.Printf("selftest: boot: %v from reset to banner (guest %s)\n", bootNS.Round(time.Microsecond), counterName)
	if m := boardMemory(); m != "" {
		fmt.Printf("selftest: memory: %s\n", m)
	}

	if err := startTick(); err != nil {
		report("tick", err)
	}
	report("gc", checkGC())
	report("goroutines", checkGoroutines())
	report("sleep", checkSleep())
	report("panic", checkPanic())
	report("stdlib", checkStdlib())
	report("preempt", checkPreempt())
	report("gcspin", checkGCSpin())
	report("gomaxprocs", checkGOMAXPROCS())
	report("tick", checkTick())
	checkBoard()
	if failForTest != "" {
		report(failForTest, errors.New("failed on purpose (-X main.failForTest)"))
	}

	if failed {
		fmt.Println("selftest: FAIL")
		os.Exit(1)
	}
	fmt.Println("selftest: PASS")
	os.Exit(0)
}
