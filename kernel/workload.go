package kernel

import (
	"sync/atomic"
	"time"
)

// Workload keeps memory busy while a snapshot runs: garbage-collector churn
// (allocations of varied sizes, a rolling set kept alive) and random writes
// over a large array. In the default mode it pauses 1 ms every few
// thousand operations, as a real system does, which gives the idle drain
// its time. In CPU mode (StartCPU) it never blocks: two writer goroutines
// spin over the array in loops without calls, and the churn goroutine
// allocates without pause; the machine never idles, and only preemption
// and the timer tick give other work the CPU.
type Workload struct {
	// ArrayBytes is the size of the mutated array.
	ArrayBytes int
	// DMABytes, if set, reports the volume a DMA device wrote so far.
	DMABytes func() uint64

	running atomic.Bool
	cpu     bool
	halt    atomic.Bool // CPU mode: tells the spinning goroutines to stop
	stop    chan struct{}
	allocs  atomic.Uint64
	writes  atomic.Uint64
	arr     []uint64
}

// Counters are cumulative operation counts.
type Counters struct {
	Allocs, Writes, DMABytes uint64
}

// Start starts the workload goroutines (sleeping mode); it is a no-op when
// running.
func (w *Workload) Start() { w.start(false) }

// StartCPU starts the CPU-bound, never-blocking workload; a no-op when
// running.
func (w *Workload) StartCPU() { w.start(true) }

func (w *Workload) start(cpu bool) {
	if !w.running.CompareAndSwap(false, true) {
		return
	}
	if w.arr == nil {
		w.arr = make([]uint64, w.ArrayBytes/8)
	}
	w.cpu = cpu
	w.stop = make(chan struct{})
	w.halt.Store(false)
	if cpu {
		go w.churnSpin()
		go w.spin(0x2545f4914f6cdd1d, 0)
		go w.spin(0x9e3779b97f4a7c15, 1)
		return
	}
	go w.churn(w.stop)
	go w.mutate(w.stop)
}

// Stop stops the workload goroutines.
func (w *Workload) Stop() {
	if w.running.CompareAndSwap(true, false) {
		w.halt.Store(true)
		close(w.stop)
	}
}

// Mode returns "cpu" or "sleep".
func (w *Workload) Mode() string {
	if w.cpu {
		return "cpu"
	}
	return "sleep"
}

// Running reports whether the workload runs.
func (w *Workload) Running() bool { return w.running.Load() }

// Counters returns the operation counts so far.
func (w *Workload) Counters() Counters {
	c := Counters{Allocs: w.allocs.Load(), Writes: w.writes.Load()}
	if w.DMABytes != nil {
		c.DMABytes = w.DMABytes()
	}
	return c
}

func stopped(stop chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func (w *Workload) churn(stop chan struct{}) {
	var live [256][]byte
	x := uint64(0x9e3779b97f4a7c15)
	for i := 0; ; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b := make([]byte, 64+x%16384)
		b[0], b[len(b)-1] = byte(x), byte(x>>8)
		live[x%uint64(len(live))] = b
		w.allocs.Add(1)
		if i%512 == 511 {
			if stopped(stop) {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func (w *Workload) mutate(stop chan struct{}) {
	x := uint64(0x2545f4914f6cdd1d)
	n := uint64(len(w.arr))
	for {
		for i := 0; i < 8192; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			w.arr[x%n] += x
		}
		w.writes.Add(8192)
		atomic.StoreUint64(&Mark, x)
		if stopped(stop) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// spin writes random words over half the array (half selects which) in a
// loop with no function calls and no blocking: only an asynchronous
// preemption (the timer tick) takes the CPU from it.
func (w *Workload) spin(x uint64, half uint64) {
	n := uint64(len(w.arr)) / 2
	base := half * n
	for !w.halt.Load() {
		for i := 0; i < 8192; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			w.arr[base+x%n] += x
		}
		w.writes.Add(8192)
	}
}

// churnSpin is churn without pauses.
func (w *Workload) churnSpin() {
	var live [256][]byte
	x := uint64(0x9e3779b97f4a7c15)
	for !w.halt.Load() {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b := make([]byte, 64+x%16384)
		b[0], b[len(b)-1] = byte(x), byte(x>>8)
		live[x%uint64(len(live))] = b
		w.allocs.Add(1)
	}
}
