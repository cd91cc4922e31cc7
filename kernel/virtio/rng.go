//go:build tamago

package virtio

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/irq"
	"github.com/pagesnap/pagesnap/snapshot"
)

// Virtio constants for the entropy device (1.2, 5.4 Entropy Device).
const (
	// VIRTIO_ID_ENTROPY is the entropy device ID (1.2, 5 Device Types).
	VIRTIO_ID_ENTROPY = 4

	// rngRequestQueue is the entropy device's only queue, requestq.
	rngRequestQueue = 0
)

// RNG defaults.
const (
	// DefaultRNGQueueSize caps the queue size when RNGConfig.QueueSize is 0.
	DefaultRNGQueueSize = 64
	// DefaultRNGBufferSize is the buffer size when RNGConfig.BufferSize is 0.
	DefaultRNGBufferSize = 4096
	// DefaultRNGPoll is the pump's idle sleep when RNGConfig.Poll is 0.
	DefaultRNGPoll = 100 * time.Microsecond
	// DefaultRNGWait is the pump's longest wait for a completion
	// interrupt when RNGConfig.Wait is 0.
	DefaultRNGWait = 10 * time.Millisecond
)

// RNGConfig configures an entropy device driver.
type RNGConfig struct {
	// QueueSize is the number of buffers kept at the device, a power of
	// 2 (1.2, 2.7); 0 means the device's maximum, at most
	// DefaultRNGQueueSize.
	QueueSize int
	// BufferSize is the size of each device-writable buffer in bytes; 0
	// means DefaultRNGBufferSize.
	BufferSize int
	// Rotate, when positive, gives every Rotate-th completed descriptor a
	// freshly allocated buffer (dma.Reserve, page-aligned, so the dma
	// guard sees it before the device is told) and releases the old one:
	// DMA memory is then allocated and freed while the device writes.
	Rotate int
	// Consume, when set, is called by the pump with the bytes the device
	// wrote into each completed buffer, before the buffer goes back to the
	// device; b is only valid during the call.
	Consume func(b []byte)
	// Poll is how long the pump sleeps when the device has completed
	// nothing and Interrupts is false; 0 means DefaultRNGPoll.
	Poll time.Duration
	// Interrupts makes the device signal completions by interrupt: the
	// pump sleeps until the interrupt (RNG.Interrupts, which the caller
	// routes to the device's line) wakes it, or Wait at the longest,
	// instead of polling every Poll.
	Interrupts bool
	// Wait is the pump's longest sleep with Interrupts; 0 means
	// DefaultRNGWait. irq.WakeG ends the sleep when the processor would
	// idle; a busy processor (other goroutines runnable) runs the pump
	// at the end of its sleep or earlier, so Wait bounds the latency
	// under load.
	Wait time.Duration
}

// RNGStats are an entropy device driver's counters.
type RNGStats struct {
	// Bytes is the number of bytes the device wrote.
	Bytes uint64
	// Buffers is the number of buffers the device completed.
	Buffers uint64
	// Rotations is the number of buffers replaced by a fresh allocation.
	Rotations uint64
	// Notifies is the number of queue notifications sent.
	Notifies uint64
	// Interrupts is the number of device interrupts taken.
	Interrupts uint64
	// Woken is the number of the pump's waits for an interrupt that
	// ended before RNGConfig.Wait: the interrupt's wake (irq.WakeG) ended
	// them, since time.Sleep never returns before its duration.
	Woken uint64
}

// rngBuffer is the buffer a descriptor points at.
type rngBuffer struct {
	addr uint
	size int
	own  bool // from dma.Reserve by the pump (else part of RNG.block)
}

// RNG drives a virtio entropy device: a pump goroutine keeps every buffer
// at the device and consumes what the device writes into them, so that the
// device DMA-writes continuously while the pump runs.
type RNG struct {
	cfg RNGConfig
	t   Transport
	q   *queue
	rg  *ring // q.rg

	size  int  // queue size
	block uint // dma.Reserve block of every initial buffer

	mu   sync.Mutex  // guards descriptor table writes, bufs, run, closed
	bufs []rngBuffer // current buffer of each descriptor
	run  chan struct{}
	done chan struct{}
	err  error // why the pump stopped, if it failed

	closed bool

	hold  atomic.Bool // Quiesce: keep completed buffers from the device
	quiet atomic.Bool // set by the pump: held, and the device holds nothing
	held  []uint16    // completed descriptors kept while held (pump only)

	bytes, buffers, rotations, notifies atomic.Uint64

	// Interrupt path (interrupt context writes irqs; the pump writes
	// waiter, its g while it sleeps for an interrupt).
	irqs   atomic.Uint64
	waiter atomic.Uint64
	woken  atomic.Uint64 // written by the pump
}

// OpenRNG finds the first entropy device on the board's virtio-mmio
// transports ts and initializes it (see NewRNG). The error wraps
// ErrNoDevice or ErrLegacy and says how to attach the device when there is
// none.
func OpenRNG(ts Transports, cfg RNGConfig) (*RNG, error) {
	t, err := Find(ts, VIRTIO_ID_ENTROPY, "virtio-rng-device")
	if err != nil {
		return nil, err
	}
	return NewRNG(t, cfg)
}

// NewRNG initializes the entropy device on transport t (1.2, 3.1.1 Driver
// Requirements: Device Initialization): reset, feature negotiation
// (VIRTIO_F_VERSION_1 only), one request queue of device-writable buffers
// whose rings and buffers are allocated with dma.Reserve (so the dma guard
// knows them before the queue is registered), then DRIVER_OK. All buffers
// are given to the device at once; call Start to keep them coming.
func NewRNG(t Transport, cfg RNGConfig) (*RNG, error) {
	if t.DeviceID != VIRTIO_ID_ENTROPY {
		return nil, fmt.Errorf("virtio: %s is not an entropy device (ID %d)", t, VIRTIO_ID_ENTROPY)
	}
	if cfg.BufferSize == 0 {
		cfg.BufferSize = DefaultRNGBufferSize
	}
	if cfg.BufferSize < 0 || cfg.QueueSize < 0 || cfg.Rotate < 0 || cfg.Poll < 0 || cfg.Wait < 0 {
		return nil, fmt.Errorf("virtio: invalid RNG configuration %+v", cfg)
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultRNGPoll
	}
	if cfg.Wait == 0 {
		cfg.Wait = DefaultRNGWait
	}
	if err := t.initVersion1(); err != nil {
		return nil, err
	}
	max, live := t.queueMax(rngRequestQueue)
	size := cfg.QueueSize
	switch {
	case live:
		t.write(VIRTIO_MMIO_STATUS, 0)
		return nil, fmt.Errorf("virtio: %s: request queue already live after reset", t)
	case max == 0:
		t.write(VIRTIO_MMIO_STATUS, 0)
		return nil, fmt.Errorf("virtio: %s: request queue not available", t)
	case size == 0:
		size = min(max, DefaultRNGQueueSize)
	case size > max:
		t.write(VIRTIO_MMIO_STATUS, 0)
		return nil, fmt.Errorf("virtio: %s: queue size %d above the device maximum %d", t, size, max)
	}
	q, err := newQueue(size, dma.Reserve)
	if err != nil {
		t.write(VIRTIO_MMIO_STATUS, 0)
		return nil, fmt.Errorf("virtio: %s: %w", t, err)
	}
	// Every buffer is device-writable and available before the device
	// learns the queue (setQueue).
	block, _ := dma.Reserve(size*cfg.BufferSize, dma.PageSize)
	r := &RNG{cfg: cfg, t: t, q: q, rg: q.rg, size: size, block: block}
	for i := 0; i < size; i++ {
		b := rngBuffer{addr: block + uint(i*cfg.BufferSize), size: cfg.BufferSize}
		r.rg.setDesc(uint16(i), uint64(b.addr), uint32(b.size), VIRTQ_DESC_F_WRITE)
		r.rg.post(uint16(i))
		r.bufs = append(r.bufs, b)
	}
	if !cfg.Interrupts {
		r.rg.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT) // we poll
	}
	t.setQueue(rngRequestQueue, q)
	if err := t.driverOK(); err != nil {
		r.shutdown()
		return nil, err
	}
	r.notify()
	return r, nil
}

// Transport returns the device's transport.
func (r *RNG) Transport() Transport { return r.t }

// QueueSize returns the number of buffers.
func (r *RNG) QueueSize() int { return r.size }

func (r *RNG) notify() {
	if !r.rg.notifySuppressed() {
		r.t.QueueNotify(rngRequestQueue)
		r.notifies.Add(1)
	}
}

// Start starts the pump goroutine. It fails if the pump runs or the
// driver is closed.
func (r *RNG) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return errors.New("virtio: RNG closed")
	case r.run != nil:
		return errors.New("virtio: RNG pump already running")
	}
	r.run, r.done, r.err = make(chan struct{}), make(chan struct{}), nil
	go r.pump(r.run, r.done)
	return nil
}

// Stop stops the pump and waits for it to exit; it returns the error that
// stopped it early, if any. Buffers stay at the device, which may still
// complete them (and so write to them) until Close.
func (r *RNG) Stop() error {
	r.mu.Lock()
	run, done := r.run, r.done
	r.run = nil
	r.mu.Unlock()
	if run == nil {
		return r.Err()
	}
	close(run)
	<-done
	return r.Err()
}

// Err returns the error that stopped the pump, if any.
func (r *RNG) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *RNG) fail(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// pump is the pump goroutine: it consumes completed buffers, gives each
// back to the device (rotating it first when configured) and notifies the
// device, sleeping cfg.Poll when there was nothing to do. While held
// (Quiesce) it keeps completed buffers instead, and reports quiet once the
// device holds none.
func (r *RNG) pump(run <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-run:
			return
		default:
		}
		// Nothing is posted in an iteration that saw hold set, so when
		// it also finds every posted buffer returned the device holds
		// none (and gets none until Resume).
		hold := r.hold.Load()
		consumed, posted := 0, 0
		for {
			id, wrote, ok := r.rg.next()
			if !ok {
				break
			}
			if err := r.complete(id, wrote); err != nil {
				r.fail(err)
				return
			}
			consumed++
			if hold {
				r.held = append(r.held, id)
			} else {
				r.rg.post(id)
				posted++
			}
		}
		if !hold {
			for _, id := range r.held {
				r.rg.post(id)
				posted++
			}
			r.held = r.held[:0]
		}
		if posted > 0 {
			r.notify()
		}
		if hold && r.rg.availIdx == r.rg.lastUsed {
			r.quiet.Store(true)
		}
		if consumed+posted > 0 {
			continue
		}
		if s := r.t.Status(); s&DEVICE_NEEDS_RESET != 0 {
			r.fail(fmt.Errorf("virtio: %s: device needs reset (status %#x)", r.t, s))
			return
		}
		if !r.cfg.Interrupts {
			time.Sleep(r.cfg.Poll)
			continue
		}
		// Wait for the completion interrupt: the handler wakes the g
		// in waiter. A completion between the ring check above and the
		// sleep wakes nothing (the pump is not asleep yet): check the
		// ring once more after publishing waiter; Wait bounds the rest.
		g, _ := runtime.GetG()
		r.waiter.Store(uint64(g))
		if r.rg.pending() == 0 {
			t0 := time.Now()
			time.Sleep(r.cfg.Wait)
			if time.Since(t0) < r.cfg.Wait {
				r.woken.Add(1)
			}
		}
		r.waiter.Store(0)
	}
}

// rngIRQ is the driver whose Interrupt the device interrupt calls (one
// entropy device per kernel), set by Interrupts.
var rngIRQ atomic.Pointer[RNG]

// Interrupts returns the handler for the device's interrupt line, to be
// set as irq.Device before the line is routed (I/O APIC, GIC): it
// acknowledges the device's interrupt causes, counts the interrupt and
// wakes the pump. The driver must have been opened with
// RNGConfig.Interrupts. Only one driver takes interrupts at a time.
func (r *RNG) Interrupts() func() {
	rngIRQ.Store(r)
	return rngInterrupt
}

// rngInterrupt is the device interrupt's handler (irq.Device): interrupt
// context, so nosplit, no allocation and no locks; atomic scalar stores
// only. It acknowledges every pending cause (VIRTIO_MMIO_INTERRUPT_ACK),
// so that the device drops its line before the end of interrupt.
//
//go:nosplit
func rngInterrupt() {
	r := rngIRQ.Load()
	if r == nil {
		return
	}
	if s := r.t.read(VIRTIO_MMIO_INTERRUPT_STATUS); s != 0 {
		r.t.write(VIRTIO_MMIO_INTERRUPT_ACK, s)
	}
	r.irqs.Add(1)
	irq.WakeG(uint(r.waiter.Load()))
}

// complete consumes the buffer of descriptor id, of which the device wrote
// wrote bytes, and rotates it when due; the caller gives it back.
func (r *RNG) complete(id uint16, wrote uint32) error {
	if int(id) >= r.size {
		return fmt.Errorf("virtio: %s: used descriptor %d beyond the queue (%d)", r.t, id, r.size)
	}
	b := r.bufs[id] // written only by this goroutine
	if int64(wrote) > int64(b.size) {
		return fmt.Errorf("virtio: %s: device wrote %d bytes into a %d-byte buffer", r.t, wrote, b.size)
	}
	if r.cfg.Consume != nil {
		r.cfg.Consume(unsafe.Slice((*byte)(at(b.addr)), wrote))
	}
	r.bytes.Add(uint64(wrote))
	c := r.buffers.Add(1)
	if r.cfg.Rotate > 0 && c%uint64(r.cfg.Rotate) == 0 {
		// The guard copies the new block in dma.Reserve, before its
		// address is written to the descriptor below.
		addr, buf := dma.RegionReserve(nil, r.cfg.BufferSize, dma.PageSize)
		nb := rngBuffer{addr: addr, size: len(buf), own: true}
		r.mu.Lock()
		r.rg.setDesc(id, uint64(nb.addr), uint32(nb.size), VIRTQ_DESC_F_WRITE)
		r.bufs[id] = nb
		r.mu.Unlock()
		if b.own {
			dma.Release(b.addr)
		}
		r.rotations.Add(1)
	}
	return nil
}

// Quiesce stops giving buffers to the device and waits, at most timeout,
// until the device has completed every buffer it held: from then until
// Resume the device writes no memory, so DMA pages keep their content
// across a snapshot's Start exactly. Completed buffers are still
// consumed (and counted). The pump must be running. On timeout it
// resumes and fails.
func (r *RNG) Quiesce(timeout time.Duration) error {
	r.mu.Lock()
	running := r.run != nil
	r.mu.Unlock()
	if !running {
		return errors.New("virtio: RNG pump not running")
	}
	r.quiet.Store(false)
	r.hold.Store(true)
	deadline := time.Now().Add(timeout)
	for !r.quiet.Load() {
		if err := r.Err(); err != nil {
			r.Resume()
			return err
		}
		if time.Now().After(deadline) {
			r.Resume()
			return fmt.Errorf("virtio: %s: device still holds buffers after %v", r.t, timeout)
		}
		time.Sleep(r.cfg.Poll)
	}
	return nil
}

// Resume ends Quiesce: the pump gives the device every buffer again.
func (r *RNG) Resume() {
	r.hold.Store(false)
	r.quiet.Store(false)
}

// Stats returns the counters.
func (r *RNG) Stats() RNGStats {
	return RNGStats{Bytes: r.bytes.Load(), Buffers: r.buffers.Load(), Rotations: r.rotations.Load(), Notifies: r.notifies.Load(),
		Interrupts: r.irqs.Load(), Woken: r.woken.Load()}
}

// Ranges returns the memory the device can write right now, byte-exact
// (round with dma.Pages): first the queue's rings, then the buffer of
// every descriptor as the descriptor table in DMA memory (what the device
// reads) says. It is nil after Close.
func (r *RNG) Ranges() []snapshot.Range {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	base, size := r.q.bytes()
	rs := []snapshot.Range{{Base: base, Size: size}}
	for i := 0; i < r.size; i++ {
		addr, n := r.rg.descriptor(uint16(i))
		rs = append(rs, snapshot.Range{Base: addr, Size: uint64(n)})
	}
	return rs
}

// Close stops the pump, resets the device (so it stops writing memory)
// and frees the queue's rings and buffers.
func (r *RNG) Close() error {
	err := r.Stop()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errors.New("virtio: RNG already closed")
	}
	r.closed = true
	r.mu.Unlock()
	if rerr := r.shutdown(); rerr != nil {
		return rerr
	}
	return err
}

// shutdown resets the device and frees the queue's memory: the rings and
// every buffer.
func (r *RNG) shutdown() error {
	if err := r.t.reset(time.Second); err != nil {
		return err // the device may still write: keep its memory
	}
	for _, b := range r.bufs {
		if b.own {
			dma.Release(b.addr)
		}
	}
	dma.Release(r.block)
	dma.Release(r.q.addr)
	return nil
}
