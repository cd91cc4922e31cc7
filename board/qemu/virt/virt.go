//go:build tamago && arm64

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
