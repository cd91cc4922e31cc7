//go:build tamago && arm64

package virt

import (
	"errors"

	"github.com/pagesnap/pagesnap/board/aarch64"
	"github.com/pagesnap/pagesnap/memrange"
)

// Board is QEMU virt as the pagesnap kernel takes it (kernel.Board): the
// virtual timer's tick through the GIC (aarch64.Tick), the RAM banks and
// the CPU count of the device tree QEMU passed.
type Board struct{ aarch64.Tick }

// RAM returns the device tree's memory banks (Memory).
func (Board) RAM() ([]memrange.Range, error) {
	banks := Memory()
	if len(banks) == 0 {
		return nil, errors.New("virt: the device tree describes no RAM")
	}
	ram := make([]memrange.Range, len(banks))
	for i, b := range banks {
		ram[i] = memrange.Range{Base: b.Start, Size: b.Size}
	}
	return ram, nil
}

// CPUCount returns the cpu nodes of the device tree (CPUCount).
func (Board) CPUCount() (int, error) { return CPUCount() }
