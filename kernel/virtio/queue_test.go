package virtio

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/pagesnap/pagesnap/dma"
)

// fakeDMA is a reserveFunc over Go memory: it hands out blocks at fake
// physical addresses (base, above 4 GiB so that the high address words
// matter) filled with garbage, and records what it handed out.
type fakeDMA struct {
	base   uint
	blocks []fakeBlock
}

type fakeBlock struct {
	addr        uint
	size, align int
	mem         []byte
}

func (f *fakeDMA) reserve(size, align int) (uint, []byte) {
	// Page-aligned Go memory, so that the ring's atomics are aligned.
	raw := make([]byte, size+dma.PageSize)
	off := int(-uintptr(unsafe.Pointer(&raw[0])) & (dma.PageSize - 1))
	mem := raw[off : off+size]
	for i := range mem {
		mem[i] = 0xa5
	}
	addr := f.base
	f.base += uint(alignUp(size, dma.PageSize)) + dma.PageSize // a hole between blocks
	f.blocks = append(f.blocks, fakeBlock{addr, size, align, mem})
	return addr, mem
}

// TestQueueSetup: a queue's three parts lie in the one block the
// allocator returned, page-aligned, zeroed, each part at its 2.7
// alignment and not overlapping the next, and the addresses the device is
// given (the register writes of 4.2.3.2) are the allocator's.
func TestQueueSetup(t *testing.T) {
	for _, size := range []int{1, 2, 8, 64, 128, 256, 1024, VIRTQ_MAX_SIZE} {
		f := &fakeDMA{base: 0x1_2345_0000}
		q, err := newQueue(size, f.reserve)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(f.blocks) != 1 {
			t.Fatalf("size %d: %d allocations, want 1", size, len(f.blocks))
		}
		blk := f.blocks[0]
		if blk.align != dma.PageSize || blk.addr%dma.PageSize != 0 {
			t.Errorf("size %d: block %#x aligned to %d, want page-aligned (%d)", size, blk.addr, blk.align, dma.PageSize)
		}
		descB, availB, usedB := RingBytes(size)
		parts := []struct {
			name   string
			addr   uint64
			bytes  int
			align  uint64
			lo, hi uint32 // address registers
			p      unsafe.Pointer
		}{
			{"descriptor table", q.desc, descB, VIRTQ_DESC_ALIGN, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, q.rg.desc},
			{"available ring", q.driver, availB, VIRTQ_AVAIL_ALIGN, VIRTIO_MMIO_QUEUE_DRIVER_LOW, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, q.rg.avail},
			{"used ring", q.device, usedB, VIRTQ_USED_ALIGN, VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, q.rg.used},
		}
		if q.desc != uint64(blk.addr) {
			t.Errorf("size %d: descriptor table at %#x, block at %#x", size, q.desc, blk.addr)
		}
		end := uint64(blk.addr)
		for _, p := range parts {
			if p.addr%p.align != 0 {
				t.Errorf("size %d: %s at %#x, not %d-aligned", size, p.name, p.addr, p.align)
			}
			if p.addr < end {
				t.Errorf("size %d: %s at %#x overlaps the previous part (ends %#x)", size, p.name, p.addr, end)
			}
			end = p.addr + uint64(p.bytes)
			if end > uint64(blk.addr)+uint64(blk.size) {
				t.Errorf("size %d: %s ends at %#x, past the block %#x+%d", size, p.name, end, blk.addr, blk.size)
			}
			// The ring drives the part in the allocator's memory.
			if want := unsafe.Pointer(&blk.mem[p.addr-uint64(blk.addr)]); p.p != want {
				t.Errorf("size %d: ring's %s at %p, block memory at %p", size, p.name, p.p, want)
			}
		}
		if base, n := q.bytes(); base != uint64(blk.addr) || n != uint64(blk.size) || end != base+n {
			t.Errorf("size %d: bytes() = %#x+%d, block %#x+%d, parts end %#x", size, base, n, blk.addr, blk.size, end)
		}
		for i, b := range blk.mem {
			if b != 0 {
				t.Fatalf("size %d: queue byte %d is %#x, not zeroed", size, i, b)
			}
		}

		// The device is given the allocator's addresses: queue
		// selected first, its size, the six address words, ready last.
		w := q.setup(3)
		regs := map[uint32]uint32{}
		for _, r := range w {
			regs[r.off] = r.val
		}
		if len(w) != 9 || len(regs) != 9 || w[0] != (regWrite{VIRTIO_MMIO_QUEUE_SEL, 3}) || w[8] != (regWrite{VIRTIO_MMIO_QUEUE_READY, 1}) {
			t.Fatalf("size %d: set-up writes %v", size, w)
		}
		if regs[VIRTIO_MMIO_QUEUE_NUM] != uint32(size) {
			t.Errorf("size %d: QueueNum %d", size, regs[VIRTIO_MMIO_QUEUE_NUM])
		}
		for _, p := range parts {
			if got := uint64(regs[p.hi])<<32 | uint64(regs[p.lo]); got != p.addr {
				t.Errorf("size %d: device told %s at %#x, it is at %#x", size, p.name, got, p.addr)
			}
		}
		if q.rg.availIdx != 0 || q.rg.lastUsed != 0 || q.rg.size != uint16(size) {
			t.Errorf("size %d: ring state avail %d used %d size %d", size, q.rg.availIdx, q.rg.lastUsed, q.rg.size)
		}
	}
}

// TestQueueLayout pins the layout for the two queues the drivers use:
// every part packed after the previous one, one page in all.
func TestQueueLayout(t *testing.T) {
	for _, c := range []struct{ size, driver, device, total int }{
		{64, 1024, 1160, 1160 + 518},   // virtio-rng's default
		{128, 2048, 2312, 2312 + 1030}, // virtio-blk's (2048+262 = 2310, rounded to 4)
		{1, 16, 24, 38},
	} {
		d, u, n := queueLayout(c.size)
		if d != c.driver || u != c.device || n != c.total {
			t.Errorf("queueLayout(%d) = %d %d %d, want %d %d %d", c.size, d, u, n, c.driver, c.device, c.total)
		}
	}
}

func TestQueueRejects(t *testing.T) {
	for _, size := range []int{0, -1, 3, 100, 2 * VIRTQ_MAX_SIZE} {
		f := &fakeDMA{base: 0x1000_0000}
		if _, err := newQueue(size, f.reserve); err == nil || !strings.Contains(err.Error(), "not a power of 2") {
			t.Errorf("newQueue(%d) = %v, want the power-of-2 error", size, err)
		}
		if len(f.blocks) != 0 {
			t.Errorf("newQueue(%d) allocated", size)
		}
	}
	// An allocator that ignores the alignment is refused.
	misaligned := func(size, align int) (uint, []byte) {
		m := make([]byte, size+dma.PageSize)
		off := int(-uintptr(unsafe.Pointer(&m[0])) & (dma.PageSize - 1))
		return 0x1000_0008, m[off : off+size]
	}
	if _, err := newQueue(8, misaligned); err == nil {
		t.Error("newQueue accepted a block at 0x10000008")
	}
	short := func(size, align int) (uint, []byte) { return 0x1000_0000, make([]byte, size-1) }
	if _, err := newQueue(8, short); err == nil {
		t.Error("newQueue accepted a short block")
	}
}
