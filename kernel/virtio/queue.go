package virtio

import (
	"fmt"
	"unsafe"

	"github.com/pagesnap/pagesnap/dma"
)

// Split virtqueue parts' alignments and size limit (Virtual I/O Device
// (VIRTIO) Version 1.2, 2.7 Split Virtqueues: "Virtqueue Part |
// Alignment | Size" table, and "Queue Size value is always a power of 2.
// The maximum Queue Size value is 32768").
const (
	// VIRTQ_DESC_ALIGN is the descriptor table's alignment in bytes.
	VIRTQ_DESC_ALIGN = 16
	// VIRTQ_AVAIL_ALIGN is the available ring's (driver area's) alignment.
	VIRTQ_AVAIL_ALIGN = 2
	// VIRTQ_USED_ALIGN is the used ring's (device area's) alignment.
	VIRTQ_USED_ALIGN = 4
	// VIRTQ_MAX_SIZE is the largest queue size.
	VIRTQ_MAX_SIZE = 32768
)

// queueAlign is the alignment of a queue's memory block: a whole page
// (dma.PageSize), so that the block's pages hold nothing but the queue
// (the dma guard copies whole pages, and the rings never share a page
// with another block). It satisfies every part's alignment.
const queueAlign = dma.PageSize

// queueLayout returns where a split queue of size descriptors lies in
// its memory block: the descriptor table at offset 0, the available ring
// (driver area) at driver, the used ring (device area) at device, each
// part after the previous one rounded up to its alignment (2.7); total is
// the block's size.
func queueLayout(size int) (driver, device, total int) {
	desc, avail, used := RingBytes(size)
	driver = alignUp(desc, VIRTQ_AVAIL_ALIGN)
	device = alignUp(driver+avail, VIRTQ_USED_ALIGN)
	return driver, device, device + used
}

func alignUp(n, align int) int { return (n + align - 1) &^ (align - 1) }

// reserveFunc allocates size bytes of device-visible memory aligned to
// align, returning its physical address and the memory (identity mapped):
// dma.Reserve in the kernels, which passes the block's pages to the dma
// guard before it returns, so the guard knows the memory before any
// device can be told its address.
type reserveFunc func(size, align int) (addr uint, buf []byte)

// queue is a split virtqueue in one block of DMA memory that this package
// allocates, lays out and drives (through rg); the device learns the
// parts' addresses from setup.
type queue struct {
	size uint16
	addr uint   // the block's physical address (the descriptor table)
	mem  []byte // the block

	// Physical addresses of the descriptor table, the driver area
	// (available ring) and the device area (used ring).
	desc, driver, device uint64

	rg *ring
}

// newQueue allocates a zeroed queue of size descriptors with reserve
// (queueAlign-aligned). size must be a power of 2 no larger than
// VIRTQ_MAX_SIZE (2.7); ring's index arithmetic relies on it.
func newQueue(size int, reserve reserveFunc) (*queue, error) {
	if size <= 0 || size > VIRTQ_MAX_SIZE || size&(size-1) != 0 {
		return nil, fmt.Errorf("virtio: queue size %d is not a power of 2 up to %d", size, VIRTQ_MAX_SIZE)
	}
	driver, device, total := queueLayout(size)
	addr, mem := reserve(total, queueAlign)
	if len(mem) < total || addr%queueAlign != 0 || uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%VIRTQ_DESC_ALIGN != 0 {
		return nil, fmt.Errorf("virtio: queue memory %#x+%d, want %d bytes aligned to %d", addr, len(mem), total, queueAlign)
	}
	mem = mem[:total]
	clear(mem)
	q := &queue{
		size:   uint16(size),
		addr:   addr,
		mem:    mem,
		desc:   uint64(addr),
		driver: uint64(addr) + uint64(driver),
		device: uint64(addr) + uint64(device),
	}
	q.rg = newRing(q.size, unsafe.Pointer(&mem[0]), unsafe.Pointer(&mem[driver]), unsafe.Pointer(&mem[device]))
	return q, nil
}

// regWrite is one register write of a transport set-up sequence: val to
// the register at offset off.
type regWrite struct{ off, val uint32 }

// setup returns the register writes that give queue index the memory of q
// and make it live (1.2, 4.2.3.2 Virtqueue Configuration, steps 1 and
// 5-7): select the queue, write its size, the 64-bit addresses of its
// three parts, then QueueReady.
func (q *queue) setup(index uint32) []regWrite {
	return []regWrite{
		{VIRTIO_MMIO_QUEUE_SEL, index},
		{VIRTIO_MMIO_QUEUE_NUM, uint32(q.size)},
		{VIRTIO_MMIO_QUEUE_DESC_LOW, uint32(q.desc)},
		{VIRTIO_MMIO_QUEUE_DESC_HIGH, uint32(q.desc >> 32)},
		{VIRTIO_MMIO_QUEUE_DRIVER_LOW, uint32(q.driver)},
		{VIRTIO_MMIO_QUEUE_DRIVER_HIGH, uint32(q.driver >> 32)},
		{VIRTIO_MMIO_QUEUE_DEVICE_LOW, uint32(q.device)},
		{VIRTIO_MMIO_QUEUE_DEVICE_HIGH, uint32(q.device >> 32)},
		{VIRTIO_MMIO_QUEUE_READY, 1},
	}
}

// bytes returns the block's physical range: everything of the queue the
// device reads or writes.
func (q *queue) bytes() (base, size uint64) {
	return uint64(q.addr), uint64(len(q.mem))
}
