//go:build tamago

package virtio

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// Transports describes a board's virtio-mmio transports: Count register
// blocks of Stride bytes from Base (the board's constants; e.g. microvm's
// VIRTIO_MMIO_BASE, virt's device tree /virtio_mmio@a000000 nodes).
type Transports struct {
	// Base is the first transport's register block address.
	Base uint32
	// Stride is the distance between two transports' register blocks.
	Stride uint32
	// Count is the number of transports.
	Count int
}

// Transport is one virtio-mmio transport of the board.
type Transport struct {
	// Index is the transport number: Base = Transports.Base +
	// Index*Transports.Stride.
	Index int
	// Base is the register block's physical address.
	Base uint32
	// Version is the transport version (MMIO_VERSION_*).
	Version uint32
	// DeviceID is the virtio device ID (1.2, 5 Device Types); 0 means no
	// device is attached.
	DeviceID uint32
	// VendorID is the device vendor ID.
	VendorID uint32
}

func (t Transport) String() string {
	return fmt.Sprintf("transport %d at %#x: device %d, version %d", t.Index, t.Base, t.DeviceID, t.Version)
}

// at returns a pointer to physical address addr (identity mapped).
//
//go:nosplit
func at(addr uint) unsafe.Pointer {
	var p unsafe.Pointer
	return unsafe.Add(p, addr)
}

// read and write access register off of t. They are nosplit and
// allocation-free: the device interrupt's handler and the snapshot drain
// (the timer interrupt) call them.
//
//go:nosplit
func (t Transport) read(off uint32) uint32 {
	return atomic.LoadUint32((*uint32)(at(uint(t.Base + off))))
}

//go:nosplit
func (t Transport) write(off, v uint32) {
	atomic.StoreUint32((*uint32)(at(uint(t.Base+off))), v)
}

// Status returns the device status (VIRTIO_STATUS_*, DEVICE_NEEDS_RESET).
//
//go:nosplit
func (t Transport) Status() uint32 { return t.read(VIRTIO_MMIO_STATUS) }

// QueueNotify tells the device that queue index has new available
// buffers (1.2, 4.2.3.3 Available Buffer Notifications).
//
//go:nosplit
func (t Transport) QueueNotify(index int) { t.write(VIRTIO_MMIO_QUEUE_NOTIFY, uint32(index)) }

// initVersion1 resets the device on t and negotiates VIRTIO_F_VERSION_1
// and no other feature (1.2, 3.1.1 Driver Requirements: Device
// Initialization, steps 1-6: reset, ACKNOWLEDGE, DRIVER, features,
// FEATURES_OK and its read-back). A device that does not offer the
// feature, or refuses it, is left reset.
func (t Transport) initVersion1() error {
	if t.read(VIRTIO_MMIO_MAGIC_VALUE) != MMIO_MAGIC {
		return fmt.Errorf("virtio: %s: no virtio-mmio magic value", t)
	}
	if v := t.read(VIRTIO_MMIO_VERSION); v != MMIO_VERSION_MODERN {
		return fmt.Errorf("virtio: %s: transport version %d, this driver drives version %d", t, v, MMIO_VERSION_MODERN)
	}
	if err := t.reset(time.Second); err != nil {
		return err
	}
	t.write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE)
	t.write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE|VIRTIO_STATUS_DRIVER)
	t.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_F_VERSION_1/32)
	if t.read(VIRTIO_MMIO_DEVICE_FEATURES)&(1<<(VIRTIO_F_VERSION_1%32)) == 0 {
		t.write(VIRTIO_MMIO_STATUS, 0)
		return fmt.Errorf("virtio: %s does not offer VIRTIO_F_VERSION_1", t)
	}
	for sel := uint32(0); sel < 2; sel++ {
		var w uint32
		if sel == VIRTIO_F_VERSION_1/32 {
			w = 1 << (VIRTIO_F_VERSION_1 % 32)
		}
		t.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel)
		t.write(VIRTIO_MMIO_DRIVER_FEATURES, w)
	}
	const features = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK
	t.write(VIRTIO_MMIO_STATUS, features)
	if s := t.Status(); s&VIRTIO_STATUS_FEATURES_OK == 0 {
		t.write(VIRTIO_MMIO_STATUS, 0)
		return fmt.Errorf("virtio: %s refused VIRTIO_F_VERSION_1 (status %#x)", t, s)
	}
	return nil
}

// queueMax selects queue index and returns its largest size (0: no such
// queue) and whether it is already live (1.2, 4.2.3.2, steps 1-3).
func (t Transport) queueMax(index uint32) (max int, live bool) {
	t.write(VIRTIO_MMIO_QUEUE_SEL, index)
	return int(t.read(VIRTIO_MMIO_QUEUE_NUM_MAX)), t.read(VIRTIO_MMIO_QUEUE_READY) != 0
}

// setQueue gives the device queue index in q's memory (q.setup).
func (t Transport) setQueue(index uint32, q *queue) {
	for _, w := range q.setup(index) {
		t.write(w.off, w.val)
	}
}

// driverOK sets DRIVER_OK (1.2, 3.1.1 step 8) and reports the status
// after it: an error when the device failed or did not take it.
func (t Transport) driverOK() error {
	t.write(VIRTIO_MMIO_STATUS, t.Status()|VIRTIO_STATUS_DRIVER_OK)
	if s := t.Status(); s&DEVICE_NEEDS_RESET != 0 || s&VIRTIO_STATUS_DRIVER_OK == 0 {
		return fmt.Errorf("virtio: %s: status %#x after DRIVER_OK", t, s)
	}
	return nil
}

// Probe reads the board's virtio-mmio transports ts and returns those with
// a device attached, in transport order.
func Probe(ts Transports) []Transport {
	var found []Transport
	for i := 0; i < ts.Count; i++ {
		t := Transport{Index: i, Base: ts.Base + uint32(i)*ts.Stride}
		if t.read(VIRTIO_MMIO_MAGIC_VALUE) != MMIO_MAGIC {
			continue
		}
		t.Version = t.read(VIRTIO_MMIO_VERSION)
		t.DeviceID = t.read(VIRTIO_MMIO_DEVICE_ID)
		t.VendorID = t.read(VIRTIO_MMIO_VENDOR_ID)
		if t.DeviceID != 0 {
			found = append(found, t)
		}
	}
	return found
}

// ErrNoDevice is returned (wrapped) when no transport has the wanted device.
var ErrNoDevice = errors.New("virtio: no device")

// ErrLegacy is returned (wrapped) when the wanted device is only offered
// through the legacy (version 1) transport.
var ErrLegacy = errors.New("virtio: legacy virtio-mmio transport")

// Find returns the first of the transports ts with device id and the
// modern (version 2) transport. The error says what was found instead and
// how to attach the device in QEMU (qemuDevice names its -device).
func Find(ts Transports, id uint32, qemuDevice string) (Transport, error) {
	all := Probe(ts)
	var legacy []string
	for _, t := range all {
		if t.DeviceID != id {
			continue
		}
		if t.Version == MMIO_VERSION_MODERN {
			return t, nil
		}
		legacy = append(legacy, t.String())
	}
	if len(legacy) > 0 {
		return Transport{}, fmt.Errorf("%w: device %d only on %s: this driver drives version %d; start QEMU with -global virtio-mmio.force-legacy=false",
			ErrLegacy, id, strings.Join(legacy, ", "), MMIO_VERSION_MODERN)
	}
	others := "none"
	if len(all) > 0 {
		var s []string
		for _, t := range all {
			s = append(s, t.String())
		}
		others = strings.Join(s, ", ")
	}
	return Transport{}, fmt.Errorf("%w: no device %d on the %d virtio-mmio transports at %#x (devices found: %s); attach one with -global virtio-mmio.force-legacy=false -device %s",
		ErrNoDevice, id, ts.Count, ts.Base, others, qemuDevice)
}

// reset writes 0 to the device status and waits until the device reads
// back 0 (1.2, 4.2.3.1 Device Initialization: reset), for at most timeout.
func (t Transport) reset(timeout time.Duration) error {
	t.write(VIRTIO_MMIO_STATUS, 0)
	deadline := time.Now().Add(timeout)
	for t.Status() != 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("virtio: %s: status %#x after reset", t, t.Status())
		}
		time.Sleep(10 * time.Microsecond)
	}
	return nil
}
