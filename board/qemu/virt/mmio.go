//go:build tamago && arm64

package virt

import "unsafe"

// Device register access, in mmio_arm64.s: single 32-bit loads and stores
// that the compiler can neither merge, split nor remove.

//go:nosplit
func read32(addr uint64) uint32

//go:nosplit
func write32(addr uint64, val uint32)

// physPointer returns physical address addr (identity mapped) as a
// pointer: memory outside the Go heap, which the garbage collector ignores.
// It is in assembly so that no uintptr-to-pointer conversion appears in Go.
//
//go:nosplit
func physPointer(addr uintptr) unsafe.Pointer
