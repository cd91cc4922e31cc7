//go:build tamago && arm64

// Package virt is the board support for a QEMU virt machine
// (qemu-system-aarch64 -M virt) with one Armv8-A core, for GOOS=tamago
// GOARCH=arm64 kernels built with the project's toolchain.
//
// The kernel is entered by QEMU's -kernel ELF loader with the MMU off, at
// EL1 (or at EL2 with virtualization=on: cpuinit then drops to EL1; EL3,
// secure=on, is refused with a message). The board's cpuinit enables
// FP/SIMD, installs exception vectors, turns on the MMU with identity boot
// tables, sizes the runtime's memory from the device tree that QEMU places
// at the start of RAM, and enters the runtime.
// Importing the package is all a kernel needs to do.
//
// Devices used: the PL011 UART (console), the Arm generic timer (clock
// and idle), semihosting or PSCI (exit). No interrupt controller is
// programmed: nothing here needs interrupts.
//
// Memory map (physical = virtual):
//
//	0x00000000-0x001fffff  unmapped: nil pointer dereferences fault
//	0x00200000-0x3fffffff  devices (flash, GIC, PL011, virtio-mmio, ...)
//	0x40000000-0x400fffff  device tree blob (placed by QEMU)
//	0x40100000-0x40101fff  boot translation tables (RamStart)
//	0x40110000-...         kernel image, then heap (link with -T 0x40110000)
//	...-RAM end            initial stack at the top
//	0x4000000000-          high devices (PCIe), mapped as device memory
package virt

import (
	"runtime/goos"
	_ "unsafe"
)

//go:linkname ramStart runtime/goos.RamStart
var ramStart uint = RamStart

// ramSize is set by earlyInit from the device tree before the runtime
// starts.
//
//go:linkname ramSize runtime/goos.RamSize
var ramSize uint = DefaultRamSize

//go:linkname ramStackOffset runtime/goos.RamStackOffset
var ramStackOffset uint = RamStackOffset

// Hwinit0 prepares the console and the clock before the runtime has a
// heap (runtime/goos.Hwinit0): it must not allocate.
//
//go:linkname hwinit0 runtime/goos.Hwinit0
func hwinit0() {
	UART0.Init()
	initTimer()
	initPSCI()
}

// Init completes the board set-up once the runtime has a heap
// (runtime/goos.Hwinit1).
//
//go:linkname Init runtime/goos.Hwinit1
func Init() {
	goos.Exit = Exit
	goos.Idle = idle
	if early.err != "" {
		print("virt: ", early.err, "; runtime memory left at ", DefaultRamSize>>20, " MiB\n")
	}
}
