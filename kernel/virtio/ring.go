package virtio

import (
	"sync/atomic"
	"unsafe"
)

// Split virtqueue layout (Virtual I/O Device (VIRTIO) Version 1.2, 2.7
// Split Virtqueues). All fields are little-endian.
const (
	// VIRTQ_DESC_SIZE is the size of a descriptor: le64 addr, le32 len,
	// le16 flags, le16 next (2.7.5 The Virtqueue Descriptor Table).
	VIRTQ_DESC_SIZE = 16
	// VIRTQ_DESC_F_NEXT marks a descriptor continued by its next field.
	VIRTQ_DESC_F_NEXT = 1
	// VIRTQ_DESC_F_WRITE marks a device-writable buffer.
	VIRTQ_DESC_F_WRITE = 2

	// VIRTQ_AVAIL_F_NO_INTERRUPT asks the device not to interrupt when it
	// consumes a buffer (2.7.6 The Virtqueue Available Ring).
	VIRTQ_AVAIL_F_NO_INTERRUPT = 1
	// VIRTQ_USED_F_NO_NOTIFY is set by the device when it needs no
	// notification of new available buffers (2.7.8 The Virtqueue Used Ring).
	VIRTQ_USED_F_NO_NOTIFY = 1

	// Available ring: le16 flags, le16 idx, le16 ring[size], le16 used_event.
	availRing = 4
	availElem = 2
	// Used ring: le16 flags, le16 idx, {le32 id, le32 len}[size], le16
	// avail_event.
	usedRing = 4
	usedElem = 8
)

// RingBytes returns the sizes of a split queue's three parts for size
// descriptors: the descriptor table, the available ring and the used ring
// (2.7 Split Virtqueues, Queue Part sizes).
func RingBytes(size int) (desc, avail, used int) {
	return VIRTQ_DESC_SIZE * size, availRing + availElem*size + 2, usedRing + usedElem*size + 2
}

// ring drives a split virtqueue from the driver side by polling: it
// publishes descriptors in the available ring and reads the device's
// completions from the used ring. It does not allocate descriptors or
// buffers. Only one goroutine may use a ring at a time.
//
// The index words are accessed with 32-bit atomics on the little-endian
// word {flags, idx} at the start of each ring: the store of the available
// index is the release that makes the ring slot (and the descriptor) it
// publishes visible to the device first, and the load of the used index
// is the acquire after which the used elements it covers may be read
// (2.7.13 Supplying Buffers to The Device, 2.7.14 Receiving Used Buffers
// From The Device). On amd64 both are ordinary ordered accesses that the
// compiler must not reorder or elide.
type ring struct {
	size  uint16
	desc  unsafe.Pointer // descriptor table
	avail unsafe.Pointer // available ring (driver area)
	used  unsafe.Pointer // used ring (device area)

	availFlags uint16 // the driver's available ring flags
	availIdx   uint16 // next available index to publish
	lastUsed   uint16 // next used index to consume
}

// newRing returns a ring over memory laid out by the caller. The
// available index and flags are taken from memory (a queue may be created
// with buffers already published); the used ring must be empty.
func newRing(size uint16, desc, avail, used unsafe.Pointer) *ring {
	r := &ring{size: size, desc: desc, avail: avail, used: used}
	w := atomic.LoadUint32((*uint32)(avail))
	r.availFlags, r.availIdx = uint16(w), uint16(w>>16)
	r.lastUsed = uint16(atomic.LoadUint32((*uint32)(used)) >> 16)
	return r
}

// setAvailFlags sets the available ring flags (VIRTQ_AVAIL_F_*).
func (r *ring) setAvailFlags(flags uint16) {
	r.availFlags = flags
	r.publish()
}

func (r *ring) publish() {
	atomic.StoreUint32((*uint32)(r.avail), uint32(r.availFlags)|uint32(r.availIdx)<<16)
}

// setDesc writes descriptor id: a buffer at addr of n bytes.
func (r *ring) setDesc(id uint16, addr uint64, n uint32, flags uint16) {
	d := unsafe.Add(r.desc, uintptr(id)*VIRTQ_DESC_SIZE)
	*(*uint64)(d) = addr
	*(*uint32)(unsafe.Add(d, 8)) = n
	*(*uint16)(unsafe.Add(d, 12)) = flags
	*(*uint16)(unsafe.Add(d, 14)) = 0
}

// setDescNext writes descriptor id: a buffer at addr of n bytes, with
// flags and the next descriptor of its chain (with VIRTQ_DESC_F_NEXT).
func (r *ring) setDescNext(id uint16, addr uint64, n uint32, flags, next uint16) {
	r.setDesc(id, addr, n, flags)
	*(*uint16)(unsafe.Add(r.desc, uintptr(id)*VIRTQ_DESC_SIZE+14)) = next
}

// descriptor returns descriptor id's address and length.
func (r *ring) descriptor(id uint16) (addr uint64, n uint32) {
	d := unsafe.Add(r.desc, uintptr(id)*VIRTQ_DESC_SIZE)
	return *(*uint64)(d), *(*uint32)(unsafe.Add(d, 8))
}

// post makes descriptor id available to the device; the device sees it
// once the available index is published, which post does.
func (r *ring) post(id uint16) {
	slot := unsafe.Add(r.avail, availRing+uintptr(r.availIdx%r.size)*availElem)
	*(*uint16)(slot) = id
	r.availIdx++
	r.publish()
}

// next returns the next buffer the device has used, its descriptor id and
// the number of bytes it wrote, or ok false when there is none.
func (r *ring) next() (id uint16, n uint32, ok bool) {
	idx := uint16(atomic.LoadUint32((*uint32)(r.used)) >> 16)
	if idx == r.lastUsed {
		return 0, 0, false
	}
	e := unsafe.Add(r.used, usedRing+uintptr(r.lastUsed%r.size)*usedElem)
	id32 := *(*uint32)(e)
	n = *(*uint32)(unsafe.Add(e, 4))
	r.lastUsed++
	return uint16(id32), n, true
}

// pending returns how many buffers the device has used and next has not
// returned yet.
func (r *ring) pending() uint16 {
	return uint16(atomic.LoadUint32((*uint32)(r.used))>>16) - r.lastUsed
}

// notifySuppressed reports whether the device asked not to be notified.
func (r *ring) notifySuppressed() bool {
	return uint16(atomic.LoadUint32((*uint32)(r.used)))&VIRTQ_USED_F_NO_NOTIFY != 0
}
