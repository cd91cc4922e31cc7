//go:build tamago && arm64

package kernel

import "github.com/pagesnap/pagesnap/board/qemu/virt"

// CPUCount returns the number of processors the machine has online: the
// cpu nodes under /cpus in the device tree QEMU passed (virt.CPUCount).
func CPUCount() (int, error) {
	return virt.CPUCount()
}
