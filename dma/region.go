//go:build tamago

package dma

import (
	tdma "github.com/usbarmory/tamago/dma"

	"github.com/pagesnap/pagesnap/memrange"
)

// region returns r, or tamago's global DMA region when r is nil.
func region(r *tdma.Region) *tdma.Region {
	if r == nil {
		r = tdma.Default()
	}
	return r
}

// Window returns the whole DMA region r (nil: tamago's global region),
// rounded out to whole pages: everything a device could be told about. It
// returns nil when the region is not initialized.
func Window(r *tdma.Region) []memrange.Range {
	if r = region(r); r == nil {
		return nil
	}
	return Pages([]memrange.Range{{Base: uint64(r.Start()), Size: uint64(r.Size())}})
}

// InUse returns the blocks of r (nil: tamago's global region) allocated
// right now, rounded out to whole pages, sorted and merged: every ring and
// buffer a device can currently have been told about. It returns nil when
// the region is not initialized.
func InUse(r *tdma.Region) []memrange.Range {
	if r = region(r); r == nil {
		return nil
	}
	return Blocks(r.UsedBlocks())
}

// Reserve reserves size bytes, aligned to align (a power of 2, 0 for word
// alignment), from tamago's global DMA region like tamago's dma.Reserve,
// and passes the block's pages to the guard before returning. Release it
// with Release.
func Reserve(size int, align int) (addr uint, buf []byte) {
	return RegionReserve(nil, size, align)
}

// RegionReserve is Reserve on region r (nil: the global region).
func RegionReserve(r *tdma.Region, size int, align int) (addr uint, buf []byte) {
	r = region(r)
	addr = allocate(func() (uint, int) {
		addr, buf = r.Reserve(size, align)
		return addr, len(buf)
	})
	return addr, buf
}

// Alloc copies buf into a new block of tamago's global DMA region, aligned
// to align, like tamago's dma.Alloc, and passes the block's pages to the
// guard before returning its address. A buffer from Reserve is returned as
// is (it was guarded when reserved). Free it with Free.
func Alloc(buf []byte, align int) (addr uint) {
	return RegionAlloc(nil, buf, align)
}

// RegionAlloc is Alloc on region r (nil: the global region).
func RegionAlloc(r *tdma.Region, buf []byte, align int) (addr uint) {
	r = region(r)
	return allocate(func() (uint, int) {
		if len(buf) == 0 {
			return 0, 0
		}
		if res, addr := r.Reserved(buf); res {
			return addr, 0
		}
		return r.Alloc(buf, align), len(buf)
	})
}

// Release frees a block of the global region from Reserve.
func Release(addr uint) { RegionRelease(nil, addr) }

// RegionRelease frees a block of r (nil: the global region) from Reserve.
func RegionRelease(r *tdma.Region, addr uint) {
	r = region(r)
	release(func() { r.Release(addr) })
}

// Free frees a block of the global region from Alloc.
func Free(addr uint) { RegionFree(nil, addr) }

// RegionFree frees a block of r (nil: the global region) from Alloc.
func RegionFree(r *tdma.Region, addr uint) {
	r = region(r)
	release(func() { r.Free(addr) })
}
