package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagesnap/pagesnap/irq"
	"github.com/pagesnap/pagesnap/kernel"
)

// Checks of the periodic tick and of preemption: goroutines that never
// block (loops without calls) must not own the processor.

// spinners starts n goroutines that count in loops without calls until
// stop is set (the only way to take the processor from them is an
// asynchronous preemption); wait waits for them to end.
func spinners(n int, stop *atomic.Bool) (counts []atomic.Uint64, wait func()) {
	counts = make([]atomic.Uint64, n)
	var wg sync.WaitGroup
	for i := range counts {
		wg.Add(1)
		go func(c *atomic.Uint64) {
			defer wg.Done()
			for !stop.Load() {
				c.Add(1)
			}
		}(&counts[i])
	}
	return counts, wg.Wait
}

// checkPreempt: two spinning goroutines both make progress while the main
// goroutine sleeps, and its time.Sleep stays within +-20 %.
func checkPreempt() error {
	var stop atomic.Bool
	counts, wait := spinners(2, &stop)
	defer func() { stop.Store(true); wait() }()

	var sample [3][2]uint64
	var slept [2]time.Duration
	t0, p0, r0 := kernel.Ticks(), kernel.Preemptions(), kernel.Retries()
	for k := 0; k < 3; k++ {
		if k > 0 {
			start := time.Now()
			time.Sleep(100 * time.Millisecond)
			slept[k-1] = time.Since(start)
		}
		sample[k] = [2]uint64{counts[0].Load(), counts[1].Load()}
	}
	fmt.Printf("selftest: preempt: spinner counts %v -> %v -> %v; time.Sleep(100ms) took %v, %v; %d ticks, %d preemptions, %d retries\n",
		sample[0], sample[1], sample[2], slept[0].Round(time.Microsecond), slept[1].Round(time.Microsecond),
		kernel.Ticks()-t0, kernel.Preemptions()-p0, kernel.Retries()-r0)
	for k := 1; k < 3; k++ {
		for i := 0; i < 2; i++ {
			if sample[k][i] <= sample[k-1][i] {
				return fmt.Errorf("spinner %d made no progress during sleep %d", i, k)
			}
		}
		if d := slept[k-1]; d < 80*time.Millisecond || d > 120*time.Millisecond {
			return fmt.Errorf("slept %v while two goroutines spun, want 100ms +- 20%%", d)
		}
	}
	return nil
}

// checkGCSpin: a garbage collection completes while a goroutine spins.
func checkGCSpin() error {
	var stop atomic.Bool
	counts, wait := spinners(1, &stop)
	defer func() { stop.Store(true); wait() }()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for n := 0; n < 8<<20; n += 64 << 10 {
		sink = append(sink, make([]byte, 64<<10))
		if len(sink) > 16 {
			sink = sink[1:]
		}
	}
	c0 := counts[0].Load()
	runtime.GC()
	c1 := counts[0].Load()
	runtime.ReadMemStats(&after)
	fmt.Printf("selftest: gcspin: NumGC %d -> %d while a goroutine spun (count %d -> %d)\n", before.NumGC, after.NumGC, c0, c1)
	if after.NumGC <= before.NumGC {
		return errors.New("no GC cycle completed")
	}
	return nil
}

// checkGOMAXPROCS is mallocfin's pattern (the Go distribution's
// test/mallocfin.go): GOMAXPROCS(4), then objects with finalizers and
// collections until most finalizers ran. One processor: the effective
// value is 1.
func checkGOMAXPROCS() error {
	prev := runtime.GOMAXPROCS(4)
	eff := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	type obj struct {
		n int
		b [64]byte
	}
	const n = 1000
	var finalized atomic.Int32
	for i := 0; i < n; i++ {
		v := &obj{n: i}
		runtime.SetFinalizer(v, func(*obj) { finalized.Add(1) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for finalized.Load() < n*7/10 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("selftest: gomaxprocs: GOMAXPROCS(4) returned %d, GOMAXPROCS(0) = %d, NumCPU %d; %d of %d finalizers ran\n",
		prev, eff, runtime.NumCPU(), finalized.Load(), n)
	if eff != runtime.NumCPU() {
		return fmt.Errorf("effective GOMAXPROCS %d, want the CPU count %d", eff, runtime.NumCPU())
	}
	if finalized.Load() < n*7/10 {
		return fmt.Errorf("%d of %d finalizers ran, want >= 70%%", finalized.Load(), n)
	}
	return nil
}

// spinFor counts loop iterations for d of the clock.
func spinFor(d time.Duration) uint64 {
	var n uint64
	for end := time.Now().Add(d); time.Now().Before(end); {
		n++
	}
	return n
}

// checkTick: the tick runs at its rate; prints its overhead on a loop that
// never idles (iterations per unit of clock time with the tick off and on,
// best of three each).
func checkTick() error {
	hz := irq.Hz
	t0, c0 := time.Now(), kernel.Ticks()
	time.Sleep(500 * time.Millisecond)
	d, n := time.Since(t0), kernel.Ticks()-c0
	want := float64(hz) * d.Seconds()

	const slice = 100 * time.Millisecond
	var off, on uint64
	for i := 0; i < 3; i++ {
		kernel.StopTick()
		off = max(off, spinFor(slice))
		if err := kernel.StartTick(hz); err != nil {
			return err
		}
		on = max(on, spinFor(slice))
	}
	overhead := 100 * (1 - float64(on)/float64(off))
	fmt.Printf("selftest: tick: %d Hz: %d ticks in %v (want %.0f); overhead %.2f%% (%d iterations per %v with the tick off, %d on)\n",
		hz, n, d.Round(time.Millisecond), want, overhead, off, slice, on)
	if hz == 0 {
		return errors.New("no tick running")
	}
	if float64(n) < want*0.5 || float64(n) > want*1.5 {
		return fmt.Errorf("%d ticks in %v at %d Hz", n, d, hz)
	}
	return nil
}
