//go:build tamago

package kernel

import (
	"bytes"
	"sort"
	"unsafe"

	"github.com/pagesnap/pagesnap/snapshot"
)

// CopyCost is the time of one bare 4 KiB page copy in this guest, the unit
// the benchmark (qemu/bench) expresses pauses and fault costs in.
type CopyCost struct {
	N int // copies timed
	// Memmove is the runtime's copy() (the guest's own memcpy); Loop the
	// copy the snapshot engine copies pages with (mmu.Direct.Copy, checked
	// against its source after every copy). Both are in ticks of the cycle counter
	// (Controller.TicksPerSecond): median and minimum of N copies.
	MemmoveMedian, MemmoveMin uint64
	LoopMedian, LoopMin       uint64
}

// copyBuf holds MeasureCopy's two page buffers (a package variable: on the
// heap, never moved).
var copyBuf []byte

// MeasureCopy times n copies of one 4 KiB page between two page-aligned
// buffers, one at a time, with interrupts on (the median leaves out the
// copies a timer tick landed in).
func MeasureCopy(n int) CopyCost {
	const page = 4096
	// The buffers must be on the heap: the engine's copy is given their
	// addresses as integers, and a stack-allocated buffer (a make of
	// constant size that does not escape) moves when the goroutine's
	// stack grows, leaving the integers pointing at the old stack (the
	// cause of rare "differs from its source" panics right after snap
	// start, when MeasureFaults calls this deep in a command's stack).
	if copyBuf == nil {
		copyBuf = make([]byte, 3*page)
	}
	buf := copyBuf
	off := int(-uintptr(unsafe.Pointer(&buf[0])) & (page - 1))
	src, dst := buf[off:off+page], buf[off+page:off+2*page]
	for i := range src {
		src[i] = byte(i * 7)
	}
	srcPA, dstPA := uint64(uintptr(unsafe.Pointer(&src[0]))), uint64(uintptr(unsafe.Pointer(&dst[0])))
	mm, loop := make([]uint64, n), make([]uint64, n)
	for i := 0; i < n; i++ {
		t0 := cycles()
		copy(dst, src)
		t1 := cycles()
		clear(dst) // untimed: the engine's copy must fill it again
		t2 := cycles()
		PhysMem{}.Copy(dstPA, srcPA, page)
		t3 := cycles()
		mm[i], loop[i] = t1-t0, t3-t2
		if !bytes.Equal(dst, src) {
			first, last, n := -1, -1, 0
			for j := range dst {
				if dst[j] != src[j] {
					if first < 0 {
						first = j
					}
					last, n = j, n+1
				}
			}
			print("kernel: copy ", i, ": dst ", hex(dstPA), " src ", hex(srcPA), ": ", n, " bytes differ, offsets ", first, "..", last,
				"; dst[first]=", dst[first], " src[first]=", src[first], "; copy took ", t3-t2, " ticks, memmove ", t1-t0, "\n")
			PhysMem{}.Copy(dstPA, srcPA, page)
			print("kernel: copied again: equal=", bytes.Equal(dst, src), "\n")
			panic("kernel: the engine's page copy (mmu.Direct.Copy) differs from its source")
		}
	}
	c := CopyCost{N: n}
	c.MemmoveMedian, c.MemmoveMin = medianMin(mm)
	c.LoopMedian, c.LoopMin = medianMin(loop)
	return c
}

// hex returns v as 0x-prefixed hexadecimal (for print).
func hex(v uint64) string {
	const digits = "0123456789abcdef"
	b := []byte("0x0000000000000000")
	for k := 17; k >= 2; k-- {
		b[k] = digits[v&15]
		v >>= 4
	}
	return string(b)
}

func medianMin(v []uint64) (median, min uint64) {
	if len(v) == 0 {
		return 0, 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[len(v)/2], v[0]
}

// FaultCost is what a store to a write-protected page costs the
// goroutine that makes it, during a snapshot: the write fault, the page's
// copy and the return.
type FaultCost struct {
	N      int // pages stored to
	Faults int // stores slower than a plain store plus a page copy: they faulted
	// Median, P99 and Max are over the faulted stores; Store is the
	// median of a second store to each page (now writable). Ticks of the
	// cycle counter.
	Median, P99, Max, Store uint64
}

// faultProbe is the buffer MeasureFaults stores to: allocated and written
// before the snapshot starts (PrepareFaultProbe), so that its pages are
// captured and write-protected at the instant.
var faultProbe []byte

// PrepareFaultProbe allocates and writes n pages for MeasureFaults.
func PrepareFaultProbe(n int) {
	const page = 4096
	b := make([]byte, (n+1)*page)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (page - 1))
	b = b[off : off+n*page]
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	faultProbe = b
}

// MeasureFaults stores one word to each page of the probe buffer, timing
// each store, then once more (the pages are writable by then): run it
// right after the snapshot starts, before the drain reaches the buffer.
func MeasureFaults() FaultCost {
	const page = 4096
	n := len(faultProbe) / page
	if n == 0 {
		return FaultCost{}
	}
	first, second := make([]uint64, n), make([]uint64, n)
	for pass, t := range [][]uint64{first, second} {
		for i := 0; i < n; i++ {
			p := (*uint64)(unsafe.Pointer(&faultProbe[i*page]))
			t0 := cycles()
			*p = uint64(i + pass)
			t[i] = cycles() - t0
		}
	}
	c := FaultCost{N: n}
	c.Store, _ = medianMin(second)
	// A write fault on an uncopied page copies the page: a store that
	// took less than a plain store plus one page copy did not fault (its
	// page was copied by the drain first).
	threshold := c.Store + MeasureCopy(64).LoopMin
	var faulted []uint64
	for _, t := range first {
		if t > threshold {
			faulted = append(faulted, t)
		}
	}
	c.Faults = len(faulted)
	if len(faulted) > 0 {
		c.Median, _ = medianMin(faulted) // sorts faulted
		c.P99, c.Max = faulted[len(faulted)*99/100], faulted[len(faulted)-1]
	}
	return c
}

// HashCost is the time of hashing one 4 KiB page with one of the snapshot
// format's algorithms in this guest: the drain's per-page hashing cost.
type HashCost struct {
	Alg uint32 // snapshot.HashSHA256, snapshot.HashBLAKE2b256
	N   int    // pages hashed
	// Median and Min are in ticks of the cycle counter
	// (Controller.TicksPerSecond), over N pages hashed one at a time.
	Median, Min uint64
}

// MeasureHash times n digests of a 4 KiB page, one at a time, for each
// algorithm of the snapshot format (snapshot.HashAlgs), as the drain
// hashes a page (snapshot.NewHash's digest, Reset, Write, Sum into a
// reused buffer). The page's first word changes each time.
func MeasureHash(n int) []HashCost {
	const page = 4096
	buf := make([]byte, page)
	for i := range buf {
		buf[i] = byte(i*131 + i>>8)
	}
	var out []HashCost
	sum := make([]byte, 0, 64)
	for _, alg := range snapshot.HashAlgs {
		h, err := snapshot.NewHash(alg)
		if err != nil {
			panic(err)
		}
		t := make([]uint64, n)
		for i := range t {
			buf[0], buf[1] = byte(i), byte(i>>8)
			t0 := cycles()
			h.Reset()
			h.Write(buf)
			sum = h.Sum(sum[:0])
			t[i] = cycles() - t0
		}
		c := HashCost{Alg: alg, N: n}
		c.Median, c.Min = medianMin(t)
		out = append(out, c)
	}
	return out
}
