package virtio

// virtio-mmio register block (Virtual I/O Device (VIRTIO) Version 1.2,
// 4.2.2 MMIO Device Register Layout): byte offsets from the transport's
// base, every register 32 bits wide, little-endian.
const (
	// VIRTIO_MMIO_MAGIC_VALUE reads MMIO_MAGIC.
	VIRTIO_MMIO_MAGIC_VALUE = 0x000
	// VIRTIO_MMIO_VERSION is the transport version (MMIO_VERSION_*).
	VIRTIO_MMIO_VERSION = 0x004
	// VIRTIO_MMIO_DEVICE_ID is the device type (5 Device Types); 0: none.
	VIRTIO_MMIO_DEVICE_ID = 0x008
	// VIRTIO_MMIO_VENDOR_ID is the device vendor ID.
	VIRTIO_MMIO_VENDOR_ID = 0x00c
	// VIRTIO_MMIO_DEVICE_FEATURES reads 32 feature bits the device offers,
	// the word selected by VIRTIO_MMIO_DEVICE_FEATURES_SEL.
	VIRTIO_MMIO_DEVICE_FEATURES = 0x010
	// VIRTIO_MMIO_DEVICE_FEATURES_SEL selects the word of device features.
	VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014
	// VIRTIO_MMIO_DRIVER_FEATURES takes 32 feature bits the driver
	// accepts, the word selected by VIRTIO_MMIO_DRIVER_FEATURES_SEL.
	VIRTIO_MMIO_DRIVER_FEATURES = 0x020
	// VIRTIO_MMIO_DRIVER_FEATURES_SEL selects the word of driver features.
	VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024
	// VIRTIO_MMIO_QUEUE_SEL selects the queue the QUEUE_* registers act on.
	VIRTIO_MMIO_QUEUE_SEL = 0x030
	// VIRTIO_MMIO_QUEUE_NUM_MAX is the selected queue's largest size (0:
	// no such queue).
	VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034
	// VIRTIO_MMIO_QUEUE_NUM takes the selected queue's size.
	VIRTIO_MMIO_QUEUE_NUM = 0x038
	// VIRTIO_MMIO_QUEUE_READY: writing 1 makes the selected queue live;
	// it reads 1 while the queue is live.
	VIRTIO_MMIO_QUEUE_READY = 0x044
	// VIRTIO_MMIO_QUEUE_NOTIFY takes the index of a queue with new
	// available buffers.
	VIRTIO_MMIO_QUEUE_NOTIFY = 0x050
	// VIRTIO_MMIO_INTERRUPT_STATUS holds the pending interrupt causes.
	VIRTIO_MMIO_INTERRUPT_STATUS = 0x060
	// VIRTIO_MMIO_INTERRUPT_ACK clears the causes written to it (the
	// device lowers its line when none is left).
	VIRTIO_MMIO_INTERRUPT_ACK = 0x064
	// VIRTIO_MMIO_STATUS is the device status (VIRTIO_STATUS_*); writing
	// 0 resets the device.
	VIRTIO_MMIO_STATUS = 0x070
	// VIRTIO_MMIO_QUEUE_DESC_LOW and _HIGH take the 64-bit physical
	// address of the selected queue's descriptor table.
	VIRTIO_MMIO_QUEUE_DESC_LOW  = 0x080
	VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084
	// VIRTIO_MMIO_QUEUE_DRIVER_LOW and _HIGH take the address of the
	// driver area (the available ring).
	VIRTIO_MMIO_QUEUE_DRIVER_LOW  = 0x090
	VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094
	// VIRTIO_MMIO_QUEUE_DEVICE_LOW and _HIGH take the address of the
	// device area (the used ring).
	VIRTIO_MMIO_QUEUE_DEVICE_LOW  = 0x0a0
	VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4
	// VIRTIO_MMIO_CONFIG is the device configuration space's offset.
	VIRTIO_MMIO_CONFIG = 0x100

	// MMIO_MAGIC is VIRTIO_MMIO_MAGIC_VALUE's value, "virt" little-endian.
	MMIO_MAGIC = 0x74726976
	// MMIO_VERSION_LEGACY is the legacy (pre-1.0) transport.
	MMIO_VERSION_LEGACY = 1
	// MMIO_VERSION_MODERN is the virtio 1.x transport, the only one this
	// package drives.
	MMIO_VERSION_MODERN = 2
)

// Device status bits (1.2, 2.1 Device Status Field).
const (
	// VIRTIO_STATUS_ACKNOWLEDGE: the driver has noticed the device.
	VIRTIO_STATUS_ACKNOWLEDGE = 1
	// VIRTIO_STATUS_DRIVER: the driver knows how to drive the device.
	VIRTIO_STATUS_DRIVER = 2
	// VIRTIO_STATUS_DRIVER_OK: the driver is set up; the device is live.
	VIRTIO_STATUS_DRIVER_OK = 4
	// VIRTIO_STATUS_FEATURES_OK: the driver has acknowledged the
	// features it understands; the device keeps it set if it accepts them.
	VIRTIO_STATUS_FEATURES_OK = 8
	// DEVICE_NEEDS_RESET is set by a device that hit an error.
	DEVICE_NEEDS_RESET = 64
	// VIRTIO_STATUS_FAILED: the driver has given up on the device.
	VIRTIO_STATUS_FAILED = 128
)

// VIRTIO_F_VERSION_1 is the feature bit of a virtio 1.x device (1.2, 6
// Reserved Feature Bits), the only feature this package negotiates.
const VIRTIO_F_VERSION_1 = 32
