//go:build tamago

package virtio

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/snapshot"
)

// Virtio constants for the block device (1.2, 5.2 Block Device).
const (
	// VIRTIO_ID_BLOCK is the block device ID (1.2, 5 Device Types).
	VIRTIO_ID_BLOCK = 2
	// VIRTIO_BLK_T_IN is a read request (1.2, 5.2.6 Device Operation).
	VIRTIO_BLK_T_IN = 0
	// VIRTIO_BLK_T_OUT is a write request.
	VIRTIO_BLK_T_OUT = 1
	// VIRTIO_BLK_S_OK is the status of a successful request.
	VIRTIO_BLK_S_OK = 0
	// VIRTIO_BLK_SECTOR_SIZE is the unit of the request's sector field
	// and of the capacity (1.2, 5.2.4 Device configuration layout).
	VIRTIO_BLK_SECTOR_SIZE = 512

	// blkCapacity is the le64 capacity's offset in the block device's
	// configuration (5.2.4).
	blkCapacity = 0

	blkRequestQueue = 0   // requestq (5.2.2 Virtqueues)
	blkQueueSize    = 128 // descriptors: 3 per request (header, data, status)
	blkReqHeader    = 16
	// BlkBatch is the most requests outstanding at once (tags 0 to
	// BlkBatch-1 of Submit).
	BlkBatch = blkQueueSize / 3 / 4 * 4
	// blkTimeout bounds one request (a throttled disk is slow, not dead).
	blkTimeout = 60 * time.Second
)

// Errors of the block driver, preallocated: WriteAt and ReadAt run in the
// snapshot drain, which may be the timer interrupt (no allocation).
var (
	ErrBlkRange   = errors.New("virtio-blk: request not sector aligned or beyond the disk")
	ErrBlkIO      = errors.New("virtio-blk: the device failed the request")
	ErrBlkTimeout = errors.New("virtio-blk: no completion in time")
	ErrBlkReset   = errors.New("virtio-blk: device needs reset")
	ErrBlkUsed    = errors.New("virtio-blk: the device returned an unknown descriptor")
	ErrBlkBatch   = errors.New("virtio-blk: request tag out of range or outstanding")
	ErrBlkBusy    = errors.New("virtio-blk: requests outstanding")
)

// Blk drives a virtio block device, polled. It implements snapshot.Disk,
// asynchronously: Submit posts one descriptor chain (header, data,
// status) per request, up to BlkBatch outstanding, Kick notifies the
// device once for all of them, Reap takes one completion off the used
// ring without waiting; the requests allocate nothing and take no lock,
// so the snapshot drain may issue them from the timer interrupt and reap
// them on a later tick. WriteAt and ReadAt are synchronous (one request,
// spinning until it completes), for use with no request outstanding.
// Only one caller at a time (the drain is serialized by the engine).
//
// The rings, the request headers and the status bytes are DMA memory
// (dma.Reserve, so the dma guard knows them before the device learns
// them); the data buffers are the caller's physical memory: the snapshot
// engine's buffer region (outside captured RAM) or a captured page the
// device only reads.
type Blk struct {
	t    Transport
	io   Transport // t: the request path's register access
	q    *queue
	rg   *ring  // q.rg
	size uint64 // bytes
	hdr  uint64 // request headers, 16 bytes each (DMA)
	st   uint64 // status bytes, one per 16 bytes (DMA)

	writes, reads, bytes atomic.Uint64

	// Outstanding requests, by tag (the request path's state).
	busy    [BlkBatch]bool
	size32  [BlkBatch]uint32 // bytes of each request
	pending int              // requests submitted and not reaped
	polls   uint64           // Reap calls that found nothing
	since   int64            // ns: last completion, or first submission with none pending (no pointer: the tick writes it)
}

// OpenBlk finds the first block device on the board's virtio-mmio
// transports ts and initializes it (NewBlk). The error wraps ErrNoDevice
// or ErrLegacy and says how to attach one.
func OpenBlk(ts Transports) (*Blk, error) {
	t, err := Find(ts, VIRTIO_ID_BLOCK, "virtio-blk-device,drive=d -drive file=snap.img,if=none,id=d,format=raw")
	if err != nil {
		return nil, err
	}
	return NewBlk(t)
}

// NewBlk initializes the block device on transport t (1.2, 3.1.1):
// reset, VIRTIO_F_VERSION_1 only, one request queue whose rings and
// request headers are allocated with dma.Reserve (so the dma guard knows
// them before the queue is registered), then DRIVER_OK.
func NewBlk(t Transport) (*Blk, error) {
	if t.DeviceID != VIRTIO_ID_BLOCK {
		return nil, fmt.Errorf("virtio: %s is not a block device (ID %d)", t, VIRTIO_ID_BLOCK)
	}
	if err := t.initVersion1(); err != nil {
		return nil, err
	}
	switch max, live := t.queueMax(blkRequestQueue); {
	case live:
		t.write(VIRTIO_MMIO_STATUS, 0)
		return nil, fmt.Errorf("virtio: %s: request queue already live after reset", t)
	case max < blkQueueSize:
		t.write(VIRTIO_MMIO_STATUS, 0)
		return nil, fmt.Errorf("virtio: %s: request queue of %d descriptors, need %d", t, max, blkQueueSize)
	}
	q, err := newQueue(blkQueueSize, dma.Reserve)
	if err != nil {
		t.write(VIRTIO_MMIO_STATUS, 0)
		return nil, fmt.Errorf("virtio: %s: %w", t, err)
	}
	// Request headers (BlkBatch of them), then the status bytes, each in
	// a 16-byte slot.
	hdrs, _ := dma.Reserve(blkQueueSize*blkReqHeader, dma.PageSize)
	b := &Blk{t: t, io: t, q: q, rg: q.rg, hdr: uint64(hdrs), st: uint64(hdrs) + BlkBatch*blkReqHeader}
	b.rg.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT) // we poll
	lo := t.read(VIRTIO_MMIO_CONFIG + blkCapacity)
	hi := t.read(VIRTIO_MMIO_CONFIG + blkCapacity + 4)
	b.size = (uint64(hi)<<32 | uint64(lo)) * VIRTIO_BLK_SECTOR_SIZE
	t.setQueue(blkRequestQueue, q)
	if err := t.driverOK(); err != nil {
		if t.reset(time.Second) == nil { // else the device may still write: keep its memory
			dma.Release(hdrs)
			dma.Release(q.addr)
		}
		return nil, err
	}
	return b, nil
}

// Transport returns the device's transport.
func (b *Blk) Transport() Transport { return b.t }

// Size returns the disk's capacity in bytes.
func (b *Blk) Size() uint64 { return b.size }

// Submit posts request tag (0 to BlkBatch-1, not outstanding), writing n
// bytes from physical address src to the disk at byte offset off (both
// multiples of 512), and returns without notifying the device (Kick).
func (b *Blk) Submit(tag int, off, src, n uint64) error {
	if err := b.post(tag, VIRTIO_BLK_T_OUT, off, src, n); err != nil {
		return err
	}
	b.writes.Add(1)
	return nil
}

// Kick notifies the device of the requests posted since the last Kick
// (unless it asked not to be notified: it polls the ring then).
func (b *Blk) Kick() {
	if !b.rg.notifySuppressed() {
		b.io.QueueNotify(blkRequestQueue)
	}
}

// Reap returns the tag of one completed request, or ok false when none
// has completed, without waiting. err is the request's error (ok true:
// the device failed it) or the device's (ok false: it needs a reset, or
// no request completed within blkTimeout while some were outstanding).
func (b *Blk) Reap() (tag int, ok bool, err error) {
	id, _, got := b.rg.next()
	if !got {
		if b.pending == 0 {
			return 0, false, nil
		}
		b.polls++
		// Every 1024 polls, and only after a second without a
		// completion, the device's status (a register read: an exit
		// to the hypervisor) and the timeout.
		if b.polls%1024 == 0 {
			if d := time.Duration(time.Now().UnixNano() - b.since); d > time.Second {
				if b.io.Status()&DEVICE_NEEDS_RESET != 0 {
					return 0, false, ErrBlkReset
				}
				if d > blkTimeout {
					return 0, false, ErrBlkTimeout
				}
			}
		}
		return 0, false, nil
	}
	tag = int(id / 3)
	if id%3 != 0 || tag >= BlkBatch || !b.busy[tag] {
		return 0, false, ErrBlkUsed
	}
	b.busy[tag] = false
	b.pending--
	b.since = time.Now().UnixNano()
	if uint8(atomic.LoadUint32((*uint32)(at(uint(b.st+uint64(tag)*blkReqHeader))))) != VIRTIO_BLK_S_OK {
		return tag, true, ErrBlkIO
	}
	b.bytes.Add(uint64(b.size32[tag]))
	return tag, true, nil
}

// WriteAt writes n bytes from physical address src to the disk at byte
// offset off (both multiples of 512) and waits for the device.
func (b *Blk) WriteAt(off, src, n uint64) error {
	b.writes.Add(1)
	return b.request(VIRTIO_BLK_T_OUT, off, src, n)
}

// ReadAt reads n bytes from the disk at byte offset off into physical
// memory at dst (both multiples of 512) and waits for the device.
func (b *Blk) ReadAt(off, dst, n uint64) error {
	b.reads.Add(1)
	return b.request(VIRTIO_BLK_T_IN, off, dst, n)
}

// request runs one request on tag 0 and spins until it completes; no
// other request may be outstanding.
func (b *Blk) request(typ uint32, off, addr, n uint64) error {
	if b.pending != 0 {
		return ErrBlkBusy
	}
	if err := b.post(0, typ, off, addr, n); err != nil {
		return err
	}
	b.Kick()
	for {
		_, ok, err := b.Reap()
		if ok || err != nil {
			return err
		}
	}
}

// post fills request tag's descriptors 3·tag..3·tag+2, header and status
// (1.2, 5.2.6: struct virtio_blk_req: le32 type, le32 reserved, le64
// sector, data, u8 status) and makes the chain available.
func (b *Blk) post(tag int, typ uint32, off, addr, n uint64) error {
	if tag < 0 || tag >= BlkBatch || b.busy[tag] {
		return ErrBlkBatch
	}
	if off%VIRTIO_BLK_SECTOR_SIZE != 0 || n%VIRTIO_BLK_SECTOR_SIZE != 0 || n == 0 || n > 1<<31 || off+n > b.size || off+n < off {
		return ErrBlkRange
	}
	data := uint16(VIRTQ_DESC_F_NEXT)
	if typ == VIRTIO_BLK_T_IN {
		data |= VIRTQ_DESC_F_WRITE
	}
	hdr, st := b.hdr+uint64(tag)*blkReqHeader, b.st+uint64(tag)*blkReqHeader
	*(*uint32)(at(uint(hdr))) = typ
	*(*uint32)(at(uint(hdr + 4))) = 0
	*(*uint64)(at(uint(hdr + 8))) = off / VIRTIO_BLK_SECTOR_SIZE
	atomic.StoreUint32((*uint32)(at(uint(st))), 0xff) // the status byte and 3 unused bytes
	d := uint16(3 * tag)
	b.rg.setDescNext(d, hdr, blkReqHeader, VIRTQ_DESC_F_NEXT, d+1)
	b.rg.setDescNext(d+1, addr, uint32(n), data, d+2)
	b.rg.setDesc(d+2, st, 1, VIRTQ_DESC_F_WRITE)
	b.busy[tag], b.size32[tag] = true, uint32(n)
	if b.pending == 0 {
		b.since = time.Now().UnixNano()
	}
	b.pending++
	b.rg.post(d)
	return nil
}

// BlkStats are the block driver's counters.
type BlkStats struct {
	Writes, Reads uint64 // requests
	Bytes         uint64 // bytes transferred
}

// Stats returns the counters.
func (b *Blk) Stats() BlkStats {
	return BlkStats{Writes: b.writes.Load(), Reads: b.reads.Load(), Bytes: b.bytes.Load()}
}

// Owned returns the pages of the driver's own heap memory that a request
// writes (the Blk value and its ring state): a kernel that drains a
// snapshot to this disk from the timer interrupt puts them in the eager
// set, like snapshot.(*Snapshot).Owned. The rings and request buffers are
// DMA memory, in the eager set already.
func (b *Blk) Owned() []snapshot.Range {
	page := func(p unsafe.Pointer, n uintptr) snapshot.Range {
		lo := uint64(uintptr(p)) &^ 4095
		hi := (uint64(uintptr(p)) + uint64(n) + 4095) &^ 4095
		return snapshot.Range{Base: lo, Size: hi - lo}
	}
	return []snapshot.Range{page(unsafe.Pointer(b), unsafe.Sizeof(*b)), page(unsafe.Pointer(b.rg), unsafe.Sizeof(*b.rg))}
}

// A negative array length fails the build if the snapshot engine's
// outstanding requests do not fit the queue.
var _ [BlkBatch - snapshot.DiskQueue]byte
