//go:build tamago

package virtio

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	tvirtio "github.com/pagesnap/pagesnap/kernel/virtio/internal/transport"
)

// virtio-mmio transport versions (1.2, 4.2.2 MMIO Device Register Layout,
// Version register).
const (
	// MMIO_VERSION_LEGACY is the legacy (pre-1.0) transport.
	MMIO_VERSION_LEGACY = 1
	// MMIO_VERSION_MODERN is the virtio 1.x transport tamago drives.
	MMIO_VERSION_MODERN = 2
)

// virtio-mmio interrupt registers (1.2, 4.2.2 MMIO Device Register Layout).
const (
	// VIRTIO_MMIO_INTERRUPT_STATUS holds the pending interrupt causes.
	VIRTIO_MMIO_INTERRUPT_STATUS = 0x060
	// VIRTIO_MMIO_INTERRUPT_ACK clears the causes written to it (the
	// device lowers its line when none is left).
	VIRTIO_MMIO_INTERRUPT_ACK = 0x064
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

//go:nosplit
func (t Transport) read(off uint32) uint32 {
	return atomic.LoadUint32((*uint32)(at(uint(t.Base + off))))
}

// initVersion1 resets the device on t and negotiates VIRTIO_F_VERSION_1
// and no other feature (virtio 1.2, 3.1.1); a device that does not offer
// it is left reset.
func (t Transport) initVersion1() (*tvirtio.MMIO, error) {
	io := &tvirtio.MMIO{Base: t.Base}
	if err := io.Init(1 << VIRTIO_F_VERSION_1); err != nil {
		return nil, fmt.Errorf("virtio: %s: %w", t, err)
	}
	if io.NegotiatedFeatures()&(1<<VIRTIO_F_VERSION_1) == 0 {
		t.write(tvirtio.Status, 0)
		return nil, fmt.Errorf("virtio: %s does not offer VIRTIO_F_VERSION_1", t)
	}
	return io, nil
}

//go:nosplit
func (t Transport) write(off, v uint32) {
	atomic.StoreUint32((*uint32)(at(uint(t.Base+off))), v)
}

// Probe reads the board's virtio-mmio transports ts and returns those with
// a device attached, in transport order.
func Probe(ts Transports) []Transport {
	var found []Transport
	for i := 0; i < ts.Count; i++ {
		t := Transport{Index: i, Base: ts.Base + uint32(i)*ts.Stride}
		if t.read(tvirtio.Magic) != tvirtio.MAGIC {
			continue
		}
		t.Version = t.read(tvirtio.Version)
		t.DeviceID = t.read(tvirtio.DeviceID)
		t.VendorID = t.read(tvirtio.VendorID)
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
		return Transport{}, fmt.Errorf("%w: device %d only on %s: tamago drives version %d; start QEMU with -global virtio-mmio.force-legacy=false",
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
	t.write(tvirtio.Status, 0)
	deadline := time.Now().Add(timeout)
	for t.read(tvirtio.Status) != 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("virtio: %s: status %#x after reset", t, t.read(tvirtio.Status))
		}
		time.Sleep(10 * time.Microsecond)
	}
	return nil
}
