//go:build tamago && arm64

package virt

import (
	"errors"
	"runtime/goos"
	_ "unsafe"

	"github.com/pagesnap/pagesnap/board/aarch64"
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
	aarch64.InitTimer()
	initPSCI()
	initRNGSeed()
}

// Init completes the board set-up once the runtime has a heap
// (runtime/goos.Hwinit1).
//
//go:linkname Init runtime/goos.Hwinit1
func Init() {
	goos.Exit = aarch64.Exit
	goos.Idle = aarch64.Idle
	aarch64.InterruptController = gic
	if early.err != "" {
		print("virt: ", early.err, "; runtime memory left at ", DefaultRamSize>>20, " MiB\n")
	}
}

// gic returns the interrupt controller of the device tree, for
// aarch64.StartTick.
func gic() (aarch64.GIC, error) {
	n, err := InterruptController()
	if err != nil {
		return aarch64.GIC{}, err
	}
	return aarch64.GIC{Version: n.Version, Dist: n.Dist.Start, CPU: n.CPU.Start, CPUSize: n.CPU.Size}, nil
}

// InterruptController returns the interrupt controller the device tree
// describes (the one StartTick sets up).
func InterruptController() (GICNode, error) {
	f, err := deviceTree()
	if err != nil {
		return GICNode{}, err
	}
	n, ferr := f.gic()
	if ferr != fdtOK {
		return n, errors.New("virt: " + ferr.String())
	}
	return n, nil
}

// PSCI's conduit from the device tree's /psci method: SMC ("smc", QEMU
// with virtualization=on) or HVC ("hvc", the default).
//
//go:nosplit
func initPSCI() {
	f, err := parseFDT(aarch64.PhysPointer(DTBAddress), DTBMaxSize)
	if err != fdtOK {
		return
	}
	if m, ok := f.property("psci", "method"); ok {
		aarch64.PSCISMC = equal(cstring(m), "smc")
	}
}

// initRNGSeed gives aarch64's generator the device tree's /chosen
// rng-seed (32 bytes from the host; used without RNDR).
//
//go:nosplit
func initRNGSeed() {
	f, err := parseFDT(aarch64.PhysPointer(DTBAddress), DTBMaxSize)
	if err != fdtOK {
		return
	}
	if seed, ok := f.property("chosen", "rng-seed"); ok {
		aarch64.RNGSeed = seed
	}
}
