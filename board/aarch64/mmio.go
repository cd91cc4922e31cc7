//go:build tamago && arm64

package aarch64

import "unsafe"

// Device register access, in mmio_arm64.s: single 32-bit loads and stores
// that the compiler can neither merge, split nor remove.

// Read32 loads the 32-bit device register at addr.
//
//go:nosplit
func Read32(addr uint64) uint32

// Write32 stores val to the 32-bit device register at addr.
//
//go:nosplit
func Write32(addr uint64, val uint32)

// PhysPointer returns physical address addr (identity mapped) as a
// pointer: memory outside the Go heap, which the garbage collector ignores.
// It is in assembly so that no uintptr-to-pointer conversion appears in Go.
//
//go:nosplit
func PhysPointer(addr uintptr) unsafe.Pointer
