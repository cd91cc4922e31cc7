//go:build tamago && amd64 && linkramsize

package main

import (
	"fmt"
	"runtime/goos"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/board/tamago"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/virtio"
	"github.com/pagesnap/pagesnap/lapic"
)

// One of tamago's own amd64 boards (make kernel BOARD=...; package
// board/tamago): the board's console (COM1) and clock (AMD64.GetTime:
// kvmclock under KVM, nanoseconds), the DMA window after the runtime's
// memory, and the board's exit (a reset or shutdown: no status).

// The tick runs on the local APIC at its reset base (tamago's boards
// leave it there).
func init() { kernel.LAPIC = &lapic.LAPIC{Base: lapic.LAPIC_BASE} }

// virtioTransports is empty: tamago's x86 boards have no virtio-mmio
// transports (Firecracker's and Cloud Hypervisor's devices are not
// driven; GCE's are PCI), so the kernel runs without virtio-rng.
func virtioTransports() virtio.Transports { return virtio.Transports{} }

// routeDeviceIRQ is never reached without a transport; it reports that.
func routeDeviceIRQ(n int) error {
	return fmt.Errorf("board %s: no virtio-mmio transport %d to route", tamago.Name, n)
}

func clockBanner() string {
	return fmt.Sprintf("board %s, core %d MHz", tamago.Name, tamago.CPU.Freq()/1e6)
}

// ticksPerSecond is the unit of the snapshot's timestamps: the board's
// clock counts nanoseconds.
func ticksPerSecond() uint64 { return 1e9 }

func boardDMA() kernel.Range {
	base, size := tamago.DMA()
	return kernel.Range{Base: base, Size: size}
}

func consoleRead() (byte, bool) { return tamago.UART0.Rx() }

const (
	crashHelp = "dereference a nil pointer: a page fault that is not the snapshot's (the kernel reports it and stops with status 3)"
	exitHelp  = "stop the machine (tamago's board: a reset or shutdown; the status is not passed)"
)

// boardCommands returns the board's extra console commands: none.
func boardCommands(*kernel.Controller) map[string]*kernel.Command { return nil }

// dmaRoundOut: the exact pages (see board_amd64.go).
const dmaRoundOut = 4 << 10

// boardRAM is the RAM map. These boards have no fw_cfg: it is the guest
// memory board/layout plans for this build's RAM size, which the images
// make image writes give the guest (vm_config.json, the launch scripts).
// A guest given less memory is not detected: the PVH start-info memory
// map is not read.
func boardRAM() ([]kernel.Range, error) {
	b, err := layout.Lookup(tamago.Name)
	if err != nil {
		return nil, err
	}
	l, err := b.Plan(uint64(goos.RamSize))
	if err != nil {
		return nil, err
	}
	return b.GuestRAM(layout.ImageMiB(l)), nil
}

// boardCPUs is the number of CPUs the board package started
// (AMD64.InitSMP(-1): the bootstrap processor and the APs).
func boardCPUs() (int, error) { return tamago.CPU.NumCPU(), nil }
