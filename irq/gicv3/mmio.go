//go:build tamago && arm64

package gicv3

// Register access, in mmio_arm64.s: single loads and stores that the
// compiler can neither merge, split nor remove.

//go:nosplit
func read32(addr uint64) uint32

//go:nosplit
func write32(addr uint64, val uint32)

//go:nosplit
func read64(addr uint64) uint64

//go:nosplit
func write64(addr uint64, val uint64)
