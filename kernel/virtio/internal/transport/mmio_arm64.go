//go:build tamago && arm64

package transport

import (
	"errors"
	"sync/atomic"
	"unsafe"

	tdma "github.com/usbarmory/tamago/dma"
)

// virtio-mmio registers (virtio 1.2, 4.2.2 MMIO Device Register Layout).
const (
	Magic             = 0x000
	Version           = 0x004
	DeviceID          = 0x008
	VendorID          = 0x00c
	DeviceFeatures    = 0x010
	DeviceFeaturesSel = 0x014
	DriverFeatures    = 0x020
	DriverFeaturesSel = 0x024
	QueueSel          = 0x030
	QueueNumMax       = 0x034
	QueueNum          = 0x038
	QueueReady        = 0x044
	QueueNotify       = 0x050
	Status            = 0x070
	QueueDescLow      = 0x080
	QueueDescHigh     = 0x084
	QueueDriverLow    = 0x090
	QueueDriverHigh   = 0x094
	QueueDeviceLow    = 0x0a0
	QueueDeviceHigh   = 0x0a4

	// MAGIC is the Magic register's value, "virt" little-endian.
	MAGIC = 0x74726976
	// VERSION is the modern (virtio 1.x) transport.
	VERSION = 2
)

// Device status bit numbers (2.1 Device Status Field).
const (
	Acknowledge      = 0
	Driver           = 1
	DriverOk         = 2
	FeaturesOk       = 3
	DeviceNeedsReset = 6
	Failed           = 7
)

// Feature bits the transport never negotiates (6 Reserved Feature Bits):
// package virtio drives split queues without notification data.
const (
	Packed           = 34
	NotificationData = 38
)

// Write is the descriptor flag of a device-writable buffer
// (VIRTQ_DESC_F_WRITE, 2.7.5 The Virtqueue Descriptor Table).
const Write = 2

// pageSize aligns the queue's ring block and its used ring (as tamago
// does, legacy-compatible).
const pageSize = 4096

// MMIO is a virtio-mmio transport (modern, version 2).
type MMIO struct {
	// Base is the register block's physical address.
	Base uint32

	features uint64
}

func (io *MMIO) reg(off uint32) *uint32 {
	var p unsafe.Pointer
	return (*uint32)(unsafe.Add(p, uintptr(io.Base+off)))
}

func (io *MMIO) read(off uint32) uint32     { return atomic.LoadUint32(io.reg(off)) }
func (io *MMIO) write(off uint32, v uint32) { atomic.StoreUint32(io.reg(off), v) }
func (io *MMIO) setStatus(bit int)          { io.write(Status, io.read(Status)|1<<bit) }

// Init resets the device and negotiates features (3.1.1 Device
// Initialization, steps 1-6): the driver's features that the device
// offers, never Packed or NotificationData.
func (io *MMIO) Init(features uint64) error {
	if io.Base == 0 || io.read(Magic) != MAGIC {
		return errors.New("invalid VirtIO instance")
	}
	if io.read(Version) != VERSION {
		return errors.New("unsupported VirtIO interface")
	}
	io.write(Status, 0)
	io.setStatus(Acknowledge)
	io.setStatus(Driver)
	var dev uint64
	for i := uint32(0); i <= 1; i++ {
		io.write(DeviceFeaturesSel, i)
		dev |= uint64(io.read(DeviceFeatures)) << (32 * i)
	}
	io.features = dev & features &^ (1<<Packed | 1<<NotificationData)
	for i := uint32(0); i <= 1; i++ {
		io.write(DriverFeaturesSel, i)
		io.write(DriverFeatures, uint32(io.features>>(32*i)))
	}
	io.setStatus(FeaturesOk)
	if io.read(Status)&(1<<FeaturesOk) == 0 {
		return errors.New("could not set features")
	}
	return nil
}

// NegotiatedFeatures returns the features Init agreed on.
func (io *MMIO) NegotiatedFeatures() uint64 { return io.features }

// QueueReady reports whether queue index is live.
func (io *MMIO) QueueReady(index int) bool {
	io.write(QueueSel, uint32(index))
	return io.read(QueueReady) != 0
}

// MaxQueueSize returns queue index's largest size (0: no such queue).
func (io *MMIO) MaxQueueSize(index int) int {
	io.write(QueueSel, uint32(index))
	return int(io.read(QueueNumMax))
}

// SetQueueSize sets queue index's size.
func (io *MMIO) SetQueueSize(index int, n int) {
	io.write(QueueSel, uint32(index))
	io.write(QueueNum, uint32(n))
}

// Status returns the device status.
func (io *MMIO) Status() uint32 { return io.read(Status) }

// SetQueue gives the device queue q's areas and makes queue index ready.
func (io *MMIO) SetQueue(index int, q *VirtualQueue) {
	desc, driver, device := q.Address()
	io.write(QueueSel, uint32(index))
	io.write(QueueDescLow, uint32(desc))
	io.write(QueueDescHigh, uint32(uint64(desc)>>32))
	io.write(QueueDriverLow, uint32(driver))
	io.write(QueueDriverHigh, uint32(uint64(driver)>>32))
	io.write(QueueDeviceLow, uint32(device))
	io.write(QueueDeviceHigh, uint32(uint64(device)>>32))
	io.write(QueueReady, 1)
}

// SetReady sets DRIVER_OK.
func (io *MMIO) SetReady() { io.setStatus(DriverOk) }

// QueueNotify tells the device that queue index has new buffers.
func (io *MMIO) QueueNotify(index int) { io.write(QueueNotify, uint32(index)) }

// Descriptor is a descriptor's buffer, as Init set it up.
type Descriptor struct {
	Address uint64
	Length  uint32
}

// VirtualQueue is a split virtqueue in tamago's global DMA region, laid
// out as tamago lays it out: one block of size buffers, and one
// page-aligned block with the descriptor table, the available ring and,
// at the next page boundary, the used ring (2.7 Split Virtqueues).
type VirtualQueue struct {
	Descriptors []*Descriptor

	bufs                 uint
	desc, driver, device uint
}

// Init reserves the queue's buffers and rings and fills the descriptor
// table; with flags Write every buffer is device-writable and already in
// the available ring (index size).
func (q *VirtualQueue) Init(size int, length int, flags uint16) {
	q.bufs, _ = tdma.Reserve(size*length, 0)
	descBytes := 16 * size
	availBytes := 4 + 2*size + 2
	driver := descBytes
	device := (driver + availBytes + pageSize - 1) &^ (pageSize - 1)
	usedBytes := 4 + 8*size + 2
	var ring []byte
	q.desc, ring = tdma.Reserve(device+usedBytes, pageSize)
	clear(ring)
	q.driver, q.device = q.desc+uint(driver), q.desc+uint(device)
	le16 := func(off int, v uint16) { ring[off], ring[off+1] = byte(v), byte(v>>8) }
	for i := 0; i < size; i++ {
		d := &Descriptor{Address: uint64(q.bufs) + uint64(i*length), Length: uint32(length)}
		q.Descriptors = append(q.Descriptors, d)
		off := 16 * i
		for b := 0; b < 8; b++ {
			ring[off+b] = byte(d.Address >> (8 * b))
		}
		for b := 0; b < 4; b++ {
			ring[off+8+b] = byte(d.Length >> (8 * b))
		}
		le16(off+12, flags)
		le16(driver+4+2*i, uint16(i))
	}
	if flags == Write {
		le16(driver+2, uint16(size))
	}
}

// Address returns the physical addresses of the descriptor table, the
// driver area (available ring) and the device area (used ring).
func (q *VirtualQueue) Address() (desc, driver, device uint) {
	return q.desc, q.driver, q.device
}

// Destroy releases the buffers and the rings.
func (q *VirtualQueue) Destroy() {
	tdma.Release(q.bufs)
	tdma.Release(q.desc)
}
