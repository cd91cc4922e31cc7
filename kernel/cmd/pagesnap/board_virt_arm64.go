//go:build tamago && arm64 && !board_imx8mpevk

package main

import (
	"fmt"

	"github.com/pagesnap/pagesnap/board/aarch64"
	"github.com/pagesnap/pagesnap/board/qemu/virt"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/virtio"
)

// The virt board: generic timer clock, PL011 console, DMA region after the
// runtime's memory (ram* build tags), semihosting exit.

// The kernel takes the tick, the RAM map and the CPU count from virt.
func init() { kernel.SetBoard(virt.Board{}) }

// clockBanner names the counter's frequency and the interrupt controller
// of the tick (GICv2 or GICv3, from the device tree).
func clockBanner() string {
	gic := "no GIC"
	if n, err := virt.InterruptController(); err == nil {
		gic = fmt.Sprintf("GICv%d", n.Version)
	}
	return fmt.Sprintf("counter %d MHz, %s", aarch64.CounterFrequency()/1e6, gic)
}

func ticksPerSecond() uint64 { return aarch64.CounterFrequency() }

func boardDMA() kernel.Range {
	base, size := virt.DMA()
	return kernel.Range{Base: base, Size: size}
}

// transports are the virtio-mmio transports of the device tree (read once,
// by virtioTransports).
var transports []virt.VirtioMMIO

// virtioTransports are the virtio-mmio transports the device tree lists
// (virt.VirtioMMIOTransports). virtio.Transports is a base and a stride:
// the evenly spaced run from the first transport is used, and a device
// tree that breaks it (QEMU's does not) is reported.
func virtioTransports() virtio.Transports {
	ts, err := virt.VirtioMMIOTransports()
	if err != nil {
		fmt.Printf("pagesnap: no virtio-mmio transports: %v\n", err)
		return virtio.Transports{}
	}
	if len(ts) == 0 || ts[0].Base+ts[0].Size > 1<<32 {
		fmt.Printf("pagesnap: no virtio-mmio transport below 4 GiB in the device tree\n")
		return virtio.Transports{}
	}
	stride := ts[0].Size
	if len(ts) > 1 && ts[1].Base > ts[0].Base {
		stride = ts[1].Base - ts[0].Base
	}
	n := 1
	for n < len(ts) && ts[n].Base == ts[0].Base+uint64(n)*stride && ts[n].Base+stride <= 1<<32 {
		n++
	}
	if n < len(ts) {
		fmt.Printf("pagesnap: virtio-mmio transports from %#x are not evenly spaced below 4 GiB after the first %d; using those\n", ts[0].Base, n)
	}
	transports = ts[:n]
	return virtio.Transports{Base: uint32(ts[0].Base), Stride: uint32(stride), Count: n}
}

// routeDeviceIRQ routes virtio-mmio transport n's interrupt (its device
// tree SPI) to irq.Device through the GIC.
func routeDeviceIRQ(n int) error {
	if n < 0 || n >= len(transports) {
		return fmt.Errorf("no virtio-mmio transport %d in the device tree", n)
	}
	return aarch64.EnableSPI(transports[n].SPI)
}

func consoleRead() (byte, bool) { return virt.UART0.Rx() }
