//go:build tamago && arm64

package imx8mpevk

import (
	"runtime/goos"
	_ "unsafe"

	"github.com/pagesnap/pagesnap/board/aarch64"
	"github.com/pagesnap/pagesnap/memrange"
	tdma "github.com/usbarmory/tamago/dma"
)

//go:linkname ramStart runtime/goos.RamStart
var ramStart uint = RamStart

//go:linkname ramSize runtime/goos.RamSize
var ramSize uint = ramSizeBytes

//go:linkname ramStackOffset runtime/goos.RamStackOffset
var ramStackOffset uint = RamStackOffset

// hwinit0 prepares the clock before the runtime has a heap
// (runtime/goos.Hwinit0): it must not allocate. The console needs no
// set-up (U-Boot's); PSCI is TF-A's, reached with SMC.
//
//go:linkname hwinit0 runtime/goos.Hwinit0
func hwinit0() {
	aarch64.InitTimer()
	aarch64.PSCISMC = true
}

// Init completes the board set-up once the runtime has a heap
// (runtime/goos.Hwinit1).
//
//go:linkname Init runtime/goos.Hwinit1
func Init() {
	goos.Exit = aarch64.Exit
	goos.Idle = aarch64.Idle
	aarch64.InterruptController = gic
}

// printk writes the runtime's output to the console (runtime/goos.Printk).
//
//go:linkname printk runtime/goos.Printk
//go:nosplit
func printk(c byte) {
	UART0.Tx(c)
}

// gic is the SoC's GICv3, for aarch64.StartTick.
func gic() (aarch64.GIC, error) {
	return aarch64.GIC{Version: 3, Dist: GICD_BASE, CPU: GICR_BASE, CPUSize: GICR_SIZE}, nil
}

// DMA returns the DMA window: DMASize bytes of DDR after the runtime's
// memory (tamago's DMA region, set up at init).
func DMA() (start, size uint64) {
	return RamStart + ramSizeBytes, DMASize
}

func init() {
	if err := tdma.Init(uint(RamStart+ramSizeBytes), DMASize); err != nil {
		panic(err)
	}
}

// Board is the EVK as the pagesnap kernel takes it (kernel.Board): the
// generic timer's tick through the GICv3, DDR and one CPU.
type Board struct{ aarch64.Tick }

// RAM returns DDR: DDRSize bytes from DDR_BASE.
func (Board) RAM() ([]memrange.Range, error) {
	return []memrange.Range{{Base: DDR_BASE, Size: DDRSize}}, nil
}

// CPUCount returns 1: U-Boot starts the kernel on the boot core and the
// other three stay off in TF-A (nothing issues PSCI CPU_ON).
func (Board) CPUCount() (int, error) { return 1, nil }
