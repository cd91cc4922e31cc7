//go:build tamago && arm64

package virtio

// The virt board's virtio-mmio transports (QEMU hw/arm/virt.c memory map,
// VIRT_MMIO: 32 transports of 0x200 bytes from 0x0a000000; the device tree
// lists them as /virtio_mmio@a000000 ... @a003e00). QEMU attaches
// -device virtio-*-device to the highest-numbered free transport first.
const (
	mmioBase  = 0x0a000000
	mmioSize  = 0x200
	mmioCount = 32
)
