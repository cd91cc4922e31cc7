//go:build tamago && amd64

package transport

import tvirtio "github.com/usbarmory/tamago/kvm/virtio"

// MMIO is tamago's virtio-mmio transport.
type MMIO = tvirtio.MMIO

// VirtualQueue is tamago's split virtqueue.
type VirtualQueue = tvirtio.VirtualQueue

// MMIO registers, status bits and descriptor flags: tamago's.
const (
	Magic            = tvirtio.Magic
	Version          = tvirtio.Version
	DeviceID         = tvirtio.DeviceID
	VendorID         = tvirtio.VendorID
	Status           = tvirtio.Status
	MAGIC            = tvirtio.MAGIC
	DriverOk         = tvirtio.DriverOk
	DeviceNeedsReset = tvirtio.DeviceNeedsReset
	Write            = tvirtio.Write
)
