// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package goos declares the hooks that a GOOS=tamago runtime calls into
// the board and CPU support code. The package only declares: board packages
// define each symbol with //go:linkname runtime/goos.Name, or GOOSPKG
// replaces this package with a module's own goos package.
package goos

import "unsafe"

// Memory layout, defined by the board.
var (
	// RamStart is the first address of the memory the runtime may use
	// (text, data and heap are all inside it).
	RamStart uint
	// RamSize is the size of that memory.
	RamSize uint
	// RamStackOffset is how far below RamStart+RamSize the initial
	// stack pointer is placed.
	RamStackOffset uint
)

// CPUInit is the first code run after the loader (the ELF entry jumps here).
func CPUInit()

// Hwinit0 runs before the scheduler and the heap exist: no allocation.
func Hwinit0()

// Hwinit1 runs once the heap exists, before package initialization.
func Hwinit1()

// InitRNG prepares GetRandomData.
func InitRNG()

// GetRandomData fills b with random bytes.
func GetRandomData(b []byte)

// Nanotime returns the monotonic time in nanoseconds.
func Nanotime() int64

// Printk writes one byte to the console.
func Printk(c byte)

// Optional hooks, set by the board at run time.
var (
	// Bloc, if not zero, is where the heap starts instead of the end of
	// the image.
	Bloc uintptr
	// Exit, if set, ends the machine with a status.
	Exit func(code int32)
	// Idle, if set, is called when the runtime has nothing to run until
	// the absolute Nanotime until (math.MaxInt64: no deadline).
	Idle func(until int64)
	// ProcID, if set, returns the current processor's identifier.
	ProcID func() uint64
	// Task, if set, starts an M on another processor: sp is its stack
	// top, mp the m, gp its g0 and fn the entry point.
	Task func(sp, mp, gp, fn unsafe.Pointer)
)
