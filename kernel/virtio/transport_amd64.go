//go:build tamago && amd64

package virtio

import "github.com/pagesnap/pagesnap/board/qemu/microvm"

// The microvm board's virtio-mmio transports.
const (
	mmioBase  = microvm.VIRTIO_MMIO_BASE
	mmioSize  = microvm.VIRTIO_MMIO_SIZE
	mmioCount = microvm.VIRTIO_MMIO_COUNT
)
