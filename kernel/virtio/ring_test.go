package virtio

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"unsafe"
)

// queueMem is a split queue's memory in Go memory, filled as NewRNG fills
// its queue before the device learns it: every descriptor a
// device-writable buffer already in the available ring, available index =
// size.
type queueMem struct {
	size              uint16
	desc, avail, used []uint64
	bufs              [][]byte // buffer i is at fake address bufBase+i<<16
}

const bufBase = 0x2000_0000

func newQueueMem(size uint16, bufLen int) *queueMem {
	d, a, u := RingBytes(int(size))
	q := &queueMem{
		size:  size,
		desc:  make([]uint64, d/8),
		avail: make([]uint64, (a+7)/8),
		used:  make([]uint64, (u+7)/8),
	}
	r := q.ring()
	for i := uint16(0); i < size; i++ {
		q.bufs = append(q.bufs, make([]byte, bufLen))
		r.setDesc(i, bufBase+uint64(i)<<16, uint32(bufLen), VIRTQ_DESC_F_WRITE)
		r.post(i)
	}
	return q
}

func (q *queueMem) ring() *ring {
	return newRing(q.size, unsafe.Pointer(&q.desc[0]), unsafe.Pointer(&q.avail[0]), unsafe.Pointer(&q.used[0]))
}

// device is a simulated device: it consumes available descriptors in order
// and completes each with a pattern (sequence number) in its buffer. It
// fails if a descriptor is made available while it holds it, or if a
// descriptor's address is not one of the queue's buffers.
type device struct {
	q        *queueMem
	availIdx uint16 // next available index to consume
	usedIdx  uint16
	inflight map[uint16]bool
	seq      uint32
	fifo     []uint16 // consumed, not yet completed
}

func (d *device) availPublished() uint16 {
	return uint16(atomic.LoadUint64(&d.q.avail[0]) >> 16)
}

// consume takes every newly available descriptor.
func (d *device) consume() error {
	end := d.availPublished()
	for ; d.availIdx != end; d.availIdx++ {
		off := availRing + int(d.availIdx%d.q.size)*availElem
		id := binary.LittleEndian.Uint16(unsafe.Slice((*byte)(unsafe.Pointer(&d.q.avail[0])), len(d.q.avail)*8)[off:])
		if id >= d.q.size {
			return fmt.Errorf("avail[%d] = %d, beyond the queue", d.availIdx, id)
		}
		if d.inflight[id] {
			return fmt.Errorf("descriptor %d made available again while the device holds it (avail idx %d)", id, d.availIdx)
		}
		d.inflight[id] = true
		d.fifo = append(d.fifo, id)
	}
	return nil
}

// complete writes and completes up to n held descriptors in order.
func (d *device) complete(n int) error {
	for ; n > 0 && len(d.fifo) > 0; n-- {
		id := d.fifo[0]
		d.fifo = d.fifo[1:]
		desc := d.q.desc[2*int(id):]
		addr, l := desc[0], uint32(desc[1])
		i := (addr - bufBase) >> 16
		if addr < bufBase || i >= uint64(len(d.q.bufs)) || (addr-bufBase)&0xffff != 0 {
			return fmt.Errorf("descriptor %d address %#x is no buffer", id, addr)
		}
		buf := d.q.bufs[i][:l]
		wrote := uint32(4 + d.seq%uint32(l-3)) // vary the length
		binary.LittleEndian.PutUint32(buf, d.seq)
		used := unsafe.Slice((*byte)(unsafe.Pointer(&d.q.used[0])), len(d.q.used)*8)
		e := usedRing + int(d.usedIdx%d.q.size)*usedElem
		binary.LittleEndian.PutUint32(used[e:], uint32(id))
		binary.LittleEndian.PutUint32(used[e+4:], wrote)
		d.usedIdx++
		d.seq++
		delete(d.inflight, id)
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&d.q.used[0])), uint32(d.usedIdx)<<16)
	}
	return nil
}

func TestRingCyclesDescriptors(t *testing.T) {
	const size, bufLen = 8, 64
	q := newQueueMem(size, bufLen)
	r := q.ring()
	if r.availIdx != size || r.lastUsed != 0 {
		t.Fatalf("ring state avail %d used %d, want %d 0", r.availIdx, r.lastUsed, size)
	}
	dev := &device{q: q, inflight: map[uint16]bool{}}
	var want uint32
	// Run past the 16-bit index wrap with varying completion batches.
	for step := 0; want < 3*65536+5; step++ {
		if err := dev.consume(); err != nil {
			t.Fatal(err)
		}
		if err := dev.complete(1 + step%size); err != nil {
			t.Fatal(err)
		}
		if p := r.pending(); int(p) > size {
			t.Fatalf("pending %d > size", p)
		}
		for {
			id, n, ok := r.next()
			if !ok {
				break
			}
			if id >= size {
				t.Fatalf("used id %d", id)
			}
			addr, l := r.descriptor(id)
			buf := q.bufs[(addr-bufBase)>>16]
			if l != bufLen || n < 4 || n > l {
				t.Fatalf("completion %d: id %d wrote %d of %d", want, id, n, l)
			}
			if got := binary.LittleEndian.Uint32(buf); got != want {
				t.Fatalf("completion %d: buffer holds sequence %d", want, got)
			}
			want++
			r.post(id)
		}
	}
	if dev.usedIdx != uint16(want) {
		t.Fatalf("device used %d, driver consumed %d", dev.usedIdx, want)
	}
}

// TestRingRebindsBuffer replaces a completed descriptor's buffer before
// posting it again, as the RNG pump's rotation does.
func TestRingRebindsBuffer(t *testing.T) {
	const size = 4
	q := newQueueMem(size, 64)
	q.bufs = append(q.bufs, make([]byte, 64)) // spare buffer, index size
	r := q.ring()
	dev := &device{q: q, inflight: map[uint16]bool{}}
	if err := dev.consume(); err != nil {
		t.Fatal(err)
	}
	if err := dev.complete(1); err != nil {
		t.Fatal(err)
	}
	id, _, ok := r.next()
	if !ok || id != 0 {
		t.Fatalf("next = %d %v", id, ok)
	}
	r.setDesc(id, bufBase+uint64(size)<<16, 64, VIRTQ_DESC_F_WRITE)
	r.post(id)
	if err := dev.consume(); err != nil {
		t.Fatal(err)
	}
	if err := dev.complete(size); err != nil {
		t.Fatal(err)
	}
	var seen []uint32
	for {
		id, _, ok := r.next()
		if !ok {
			break
		}
		addr, _ := r.descriptor(id)
		seen = append(seen, binary.LittleEndian.Uint32(q.bufs[(addr-bufBase)>>16]))
		if id == 0 && addr != bufBase+uint64(size)<<16 {
			t.Fatalf("descriptor 0 at %#x after rebinding", addr)
		}
	}
	if fmt.Sprint(seen) != "[1 2 3 4]" {
		t.Fatalf("sequences %v, want [1 2 3 4]", seen)
	}
	if q.bufs[size][0] != 4 {
		t.Fatalf("spare buffer holds %d, want sequence 4", q.bufs[size][0])
	}
}

func TestRingFlags(t *testing.T) {
	q := newQueueMem(2, 8)
	r := q.ring()
	r.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT)
	if w := atomic.LoadUint64(&q.avail[0]); uint16(w) != VIRTQ_AVAIL_F_NO_INTERRUPT || uint16(w>>16) != 2 {
		t.Fatalf("avail word %#x", w)
	}
	if r.notifySuppressed() {
		t.Fatal("notification suppressed with used flags 0")
	}
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&q.used[0])), VIRTQ_USED_F_NO_NOTIFY)
	if !r.notifySuppressed() {
		t.Fatal("VIRTQ_USED_F_NO_NOTIFY not seen")
	}
	if d, a, u := RingBytes(8); d != 128 || a != 22 || u != 70 {
		t.Fatalf("RingBytes(8) = %d %d %d", d, a, u)
	}
}

// TestSetDescNext: a chained descriptor carries its flags and next index
// at the offsets of 2.7.5 (le16 flags at 12, le16 next at 14).
func TestSetDescNext(t *testing.T) {
	q := newQueueMem(4, 16)
	r := q.ring()
	r.setDescNext(1, 0x1234_5678_9000, 512, VIRTQ_DESC_F_NEXT|VIRTQ_DESC_F_WRITE, 3)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&q.desc[0])), len(q.desc)*8)[VIRTQ_DESC_SIZE : 2*VIRTQ_DESC_SIZE]
	le := binary.LittleEndian
	if le.Uint64(b) != 0x1234_5678_9000 || le.Uint32(b[8:]) != 512 || le.Uint16(b[12:]) != 3 || le.Uint16(b[14:]) != 3 {
		t.Fatalf("descriptor bytes % x", b)
	}
	r.setDesc(1, 0x1000, 16, 0)
	if le.Uint16(b[14:]) != 0 || le.Uint16(b[12:]) != 0 {
		t.Fatalf("setDesc kept next/flags: % x", b)
	}
}
