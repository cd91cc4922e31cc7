// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package irq is the meeting point between the boards' periodic timer
// interrupt and the code that wants work done from it (the snapshot's
// drain share) or needs to know that the interrupt path writes memory
// (the snapshot's write protection).
//
// The boards call Tick and PrepareWrite from their timer interrupt
// handlers; the kernel sets them before enabling the tick (Start, in
// the board's package). The package is architecture independent and
// imports nothing, so both the boards and the kernel can use it.
//
// Both hooks run in interrupt context: interrupts off, on the board's
// interrupt stack, with an arbitrary goroutine (or the scheduler, or
// the idle loop) interrupted. They must follow the fault-path rules:
// //go:nosplit, no allocation, no write barriers (write scalars only),
// no locks the interrupted code may hold, no calls that may block.
// The function values themselves are read without synchronization: set
// them before the tick starts and do not change them while it runs.
package irq

// Tick, if non-nil, runs on every periodic timer interrupt, in interrupt
// context, before the interrupted goroutine is considered for preemption.
var Tick func()

// PrepareWrite, if non-nil, is called by the interrupt path with an
// address it is about to store to outside its own stack (the interrupted
// goroutine's stack, when it injects the preemption call), so that a
// running snapshot copies and unprotects that page first. It returns
// false if the address cannot be made writable; the path must then not
// store there (the preemption is skipped for this tick).
var PrepareWrite func(addr uint64) bool

// Hz is the rate of the periodic tick in interrupts per second, set by
// the board when it starts the tick (0: no tick running).
var Hz uint32

// Device, if non-nil, runs when the device interrupt fires (amd64: the
// kernel's DEVICE_VECTOR, routed by an I/O APIC; arm64: the GIC SPI the
// board enabled with EnableSPI), in interrupt context, before the end of
// interrupt is signalled: it must make the device drop its line (e.g.
// virtio's InterruptACK). Set it before the interrupt is routed.
var Device func()

// DefaultHz is the tick rate the boards use unless told otherwise: 100 Hz,
// a 10 ms period, the runtime's preemption time slice (forcePreemptNS).
const DefaultHz = 100
