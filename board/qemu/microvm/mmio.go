package microvm

// Device register access, in mmio_amd64.s: single 32-bit loads and stores
// that the compiler can neither merge, split nor remove.

//go:nosplit
func read32(addr uint64) uint32

//go:nosplit
func write32(addr uint64, val uint32)
