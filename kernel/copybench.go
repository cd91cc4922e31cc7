//go:build tamago

package kernel

import (
	"sort"
	"unsafe"
)

// CopyCost is the time of one bare 4 KiB page copy in this guest, the unit
// the benchmark (qemu/bench) expresses pauses and fault costs in.
type CopyCost struct {
	N int // copies timed
	// Memmove is the runtime's copy() (the guest's own memcpy); Loop the
	// 8-byte load/store loop the snapshot engine copies pages with
	// (mmu.Direct.Copy). Both are in ticks of the cycle counter
	// (Controller.TicksPerSecond): median and minimum of N copies.
	MemmoveMedian, MemmoveMin uint64
	LoopMedian, LoopMin       uint64
}

// MeasureCopy times n copies of one 4 KiB page between two page-aligned
// buffers, one at a time, with interrupts on (the median leaves out the
// copies a timer tick landed in).
func MeasureCopy(n int) CopyCost {
	const page = 4096
	buf := make([]byte, 3*page)
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
		PhysMem{}.Copy(dstPA, srcPA, page)
		t2 := cycles()
		mm[i], loop[i] = t1-t0, t2-t1
	}
	c := CopyCost{N: n}
	c.MemmoveMedian, c.MemmoveMin = medianMin(mm)
	c.LoopMedian, c.LoopMin = medianMin(loop)
	return c
}

func medianMin(v []uint64) (median, min uint64) {
	if len(v) == 0 {
		return 0, 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[len(v)/2], v[0]
}
