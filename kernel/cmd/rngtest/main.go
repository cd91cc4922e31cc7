//go:build tamago && amd64

// Command rngtest is a GOOS=tamago kernel that drives a virtio entropy
// device (kernel/virtio) for about a second and checks the DMA path the
// snapshot engine relies on:
//
//   - the device keeps writing: bytes and completed buffers grow, the
//     bytes are not constant (every byte value appears, consecutive
//     buffers differ);
//   - every ring and buffer the driver reports (RNG.Ranges) lies in
//     dma.InUse and was passed to the dma guard, checked repeatedly while
//     the pump runs and rotates buffers (fresh allocations during DMA);
//   - the guard never sees a page a descriptor already points at (the
//     device is told about a buffer only after the guard copied it);
//   - a quiesced device (RNG.Quiesce) writes nothing until Resume;
//   - Close frees every page the driver used.
//
// It prints the DMA window's page count against the in-use page count and
// the time to copy each (the eager-set cost of "whole window" against
// "in use only"), then "rngtest: PASS" or "rngtest: FAIL" and ends the
// machine with status 0 or 1 (QEMU exit status 1 or 3 with
// isa-debug-exit). Boot it with
//
//	-global virtio-mmio.force-legacy=false -device virtio-rng-device
//
// Without a device it fails with the driver's error, which says how to
// attach one.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/pagesnap/pagesnap/board/qemu/microvm"
	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/kernel/virtio"
	"github.com/pagesnap/pagesnap/snapshot"
)

// pumpFor is how long the pump runs.
const pumpFor = time.Second

var failed bool

func check(ok bool, format string, a ...any) {
	if !ok {
		failed = true
		fmt.Printf("rngtest: FAIL "+format+"\n", a...)
	}
}

func finish() {
	if failed {
		fmt.Println("rngtest: FAIL")
		os.Exit(1)
	}
	fmt.Println("rngtest: PASS")
	os.Exit(0)
}

// guardLog records every range passed to the dma guard and checks that
// none is already pointed at by a descriptor of the driver.
type guardLog struct {
	mu         sync.Mutex
	ranges     []snapshot.Range
	calls      int
	violations []string
	rng        *virtio.RNG // set once the driver exists
}

func (g *guardLog) guard(base, size uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	r := snapshot.Range{Base: base, Size: size}
	if g.rng != nil {
		// Called from inside dma.Reserve: the pump has not yet written
		// the new address to a descriptor, so no current buffer may
		// share a page with it (buffers are page-sized and aligned).
		for _, b := range g.rng.Ranges()[1:] {
			if dma.Page(b.Base, b.Size).Overlaps(r) {
				g.violations = append(g.violations, fmt.Sprintf("guard %v: descriptor buffer %v already there", r, b))
			}
		}
	}
	g.ranges = dma.Pages(append(g.ranges, r))
}

func (g *guardLog) covered() []snapshot.Range {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]snapshot.Range(nil), g.ranges...)
}

// consumer checks what the device writes.
type consumer struct {
	seen    [256]bool
	prev    [32]byte
	hasPrev bool
	repeats int // buffers whose first 32 bytes equal the previous buffer's
	short   int // buffers with fewer than 32 bytes
}

func (c *consumer) consume(b []byte) {
	for _, v := range b {
		c.seen[v] = true
	}
	if len(b) < len(c.prev) {
		c.short++
		return
	}
	if c.hasPrev && bytes.Equal(b[:len(c.prev)], c.prev[:]) {
		c.repeats++
	}
	copy(c.prev[:], b)
	c.hasPrev = true
}

func (c *consumer) distinct() int {
	n := 0
	for _, s := range c.seen {
		if s {
			n++
		}
	}
	return n
}

// checkCoverage checks, with DMA allocation blocked (dma.Begin), that the
// driver's ranges are in use and were guarded.
func checkCoverage(when string, rng *virtio.RNG, g *guardLog) {
	err := dma.Begin(func() (dma.Guard, error) {
		inUse := dma.InUse(nil)
		rs := rng.Ranges()
		check(len(rs) == rng.QueueSize()+1, "%s: %d driver ranges, want %d", when, len(rs), rng.QueueSize()+1)
		if u := dma.Uncovered(inUse, rs); u != nil {
			check(false, "%s: driver ranges not in dma.InUse: %v (in use %v)", when, u, inUse)
		}
		if u := dma.Uncovered(g.covered(), rs); u != nil {
			check(false, "%s: driver ranges never passed to the guard: %v", when, u)
		}
		return g.guard, nil
	})
	check(err == nil, "%s: dma.Begin: %v", when, err)
}

// copyCost copies rs into dst page by page and returns the pages copied and
// the guest time taken, in TSC ticks.
func copyCost(rs []snapshot.Range, dst []byte) (pages uint64, ticks uint64) {
	t0 := microvm.TSCCounter()
	off := 0
	for _, r := range rs {
		src := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(r.Base))), r.Size)
		off += copy(dst[off:], src)
	}
	return uint64(off) / dma.PageSize, microvm.TSCCounter() - t0
}

// dmaBytes copies the bytes of rs.
func dmaBytes(rs []snapshot.Range) []byte {
	var b []byte
	for _, r := range rs {
		b = append(b, unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(r.Base))), r.Size)...)
	}
	return b
}

// checkAllocFree checks dma.Alloc/Free and Reserve/Release: the guard sees
// the new block, InUse has it while allocated and not after.
func checkAllocFree(g *guardLog) {
	before := dma.InUse(nil)
	data := bytes.Repeat([]byte{0xa5}, 5000)
	addr := dma.Alloc(data, 0)
	blk := snapshot.Range{Base: uint64(addr), Size: uint64(len(data))}
	check(bytes.Equal(dmaBytes([]snapshot.Range{blk}), data), "dma.Alloc block %v does not hold the data", blk)
	check(dma.Covered(g.covered(), blk), "dma.Alloc block %v not passed to the guard", blk)
	check(dma.Covered(dma.InUse(nil), blk), "dma.Alloc block %v not in use", blk)
	check(dma.Alloc(nil, 0) == 0, "dma.Alloc(nil) != 0")
	raddr, rbuf := dma.Reserve(3*dma.PageSize, dma.PageSize)
	res := snapshot.Range{Base: uint64(raddr), Size: uint64(len(rbuf))}
	check(raddr%dma.PageSize == 0 && len(rbuf) == 3*dma.PageSize, "dma.Reserve: %v", res)
	check(dma.Covered(g.covered(), res), "dma.Reserve block %v not passed to the guard", res)
	check(dma.Covered(dma.InUse(nil), res), "dma.Reserve block %v not in use", res)
	check(dma.Alloc(rbuf, 0) == raddr, "dma.Alloc of a reserved buffer moved it")
	dma.Free(addr)
	dma.Release(raddr)
	after := dma.InUse(nil)
	check(fmt.Sprint(after) == fmt.Sprint(before), "in use after Free/Release %v, before %v", after, before)
}

// checkQuiesce checks that a quiesced device writes nothing (rings and
// buffers keep their bytes, no completions) and that it writes again
// after Resume.
func checkQuiesce(rng *virtio.RNG) {
	t0 := time.Now()
	if err := rng.Quiesce(10 * time.Second); err != nil {
		check(false, "quiesce: %v", err)
		return
	}
	took := time.Since(t0)
	rs := rng.Ranges()
	st0, b0 := rng.Stats(), dmaBytes(rs)
	time.Sleep(100 * time.Millisecond)
	st1, b1 := rng.Stats(), dmaBytes(rs)
	rng.Resume()
	fmt.Printf("rngtest: quiesce: device idle after %v; %d bytes of rings and buffers unchanged for 100ms: %v\n",
		took.Round(time.Microsecond), len(b0), bytes.Equal(b0, b1))
	check(bytes.Equal(b0, b1), "quiesced device changed its rings or buffers")
	check(st0 == st1, "quiesced device completed buffers: %+v -> %+v", st0, st1)
	time.Sleep(100 * time.Millisecond)
	st2 := rng.Stats()
	check(st2.Bytes > st1.Bytes, "no bytes after resume: %+v -> %+v", st1, st2)
}

// transports are microvm's virtio-mmio transports.
var transports = virtio.Transports{Base: microvm.VIRTIO_MMIO_BASE, Stride: microvm.VIRTIO_MMIO_SIZE, Count: microvm.VIRTIO_MMIO_COUNT}

func main() {
	fmt.Printf("pagesnap rngtest: %s/%s %s\n", runtime.GOOS, runtime.GOARCH, runtime.Version())
	for _, t := range virtio.Probe(transports) {
		fmt.Printf("rngtest: virtio-mmio %v\n", t)
	}

	g := &guardLog{}
	dma.SetGuard(g.guard)
	before := dma.InUse(nil)

	checkAllocFree(g)

	var c consumer
	rng, err := virtio.OpenRNG(transports, virtio.RNGConfig{BufferSize: dma.PageSize, Rotate: 7, Consume: c.consume})
	if err != nil {
		check(false, "%v", err)
		finish()
	}
	g.mu.Lock()
	g.rng = rng
	g.mu.Unlock()
	fmt.Printf("rngtest: entropy device on %v, %d buffers of %d bytes\n", rng.Transport(), rng.QueueSize(), dma.PageSize)
	checkCoverage("after open", rng, g)
	fmt.Printf("rngtest: after open: %d DMA pages in use (driver: %d pages) of a %d-page window\n",
		dma.Count(dma.InUse(nil)), dma.Count(dma.Pages(rng.Ranges())), dma.Count(dma.Window(nil)))

	if err := rng.Start(); err != nil {
		check(false, "start: %v", err)
		finish()
	}
	start := time.Now()
	var mid []uint64
	for time.Since(start) < pumpFor {
		time.Sleep(pumpFor / 10)
		checkCoverage(fmt.Sprintf("pumping %v", time.Since(start).Round(time.Millisecond)), rng, g)
		mid = append(mid, rng.Stats().Bytes)
	}

	checkQuiesce(rng)

	// The eager-set cost, measured while the device writes.
	window, inUse := dma.Window(nil), dma.InUse(nil)
	dst := make([]byte, dma.Count(window)*dma.PageSize)
	// Best of three, interleaved, so neither side pays for first touches.
	var wp, wt, up, ut uint64
	for i := 0; i < 3; i++ {
		p, t := copyCost(window, dst)
		if i == 0 || t < wt {
			wp, wt = p, t
		}
		p, t = copyCost(inUse, dst)
		if i == 0 || t < ut {
			up, ut = p, t
		}
	}
	fmt.Printf("rngtest: dma window %v: %d pages; in use %v: %d pages (%.2f%% of the window)\n",
		window, dma.Count(window), inUse, dma.Count(inUse), 100*float64(dma.Count(inUse))/float64(dma.Count(window)))
	if hz := microvm.TSCFrequency(); hz != 0 && ut != 0 {
		fmt.Printf("rngtest: eager copy (guest TSC, best of 3): whole window %d pages in %v, in use %d pages in %v: %.0fx\n",
			wp, time.Duration(float64(wt)/float64(hz)*1e9), up, time.Duration(float64(ut)/float64(hz)*1e9), float64(wt)/float64(ut))
	}

	stopErr := rng.Stop()
	elapsed := time.Since(start)
	st := rng.Stats()
	fmt.Printf("rngtest: pumped %v: %d bytes in %d buffers (%d rotated), %d notifications; byte values seen %d/256, repeats %d, short buffers %d\n",
		elapsed.Round(time.Millisecond), st.Bytes, st.Buffers, st.Rotations, st.Notifies, c.distinct(), c.repeats, c.short)
	check(stopErr == nil, "pump: %v", stopErr)
	check(st.Buffers > uint64(2*rng.QueueSize()), "%d buffers completed, want > %d (the device must be fed continuously)", st.Buffers, 2*rng.QueueSize())
	check(st.Bytes >= 64<<10, "%d bytes, want >= 64 KiB", st.Bytes)
	check(st.Rotations > 0 && st.Rotations == st.Buffers/7, "%d rotations for %d buffers, want %d", st.Rotations, st.Buffers, st.Buffers/7)
	check(c.distinct() == 256, "only %d distinct byte values in %d bytes: not random", c.distinct(), st.Bytes)
	check(c.repeats == 0, "%d buffers began like the previous one", c.repeats)
	growing := 0
	for i := 1; i < len(mid); i++ {
		if mid[i] > mid[i-1] {
			growing++
		}
	}
	check(growing >= len(mid)/2, "byte count grew in only %d of %d intervals: %v", growing, len(mid)-1, mid)
	g.mu.Lock()
	calls, violations := g.calls, g.violations
	g.mu.Unlock()
	fmt.Printf("rngtest: guard: %d calls\n", calls)
	check(uint64(calls) >= st.Rotations+2, "%d guard calls, want >= %d (2 at open + 1 per rotation)", calls, st.Rotations+2)
	check(len(violations) == 0, "guard saw pages already given to the device: %v", violations)

	check(rng.Close() == nil, "close failed")
	after := dma.InUse(nil)
	check(fmt.Sprint(after) == fmt.Sprint(before), "dma in use after close %v, before open %v", after, before)
	check(rng.Ranges() == nil, "ranges after close: %v", rng.Ranges())
	dma.SetGuard(nil)
	finish()
}
