//go:build tamago && amd64 && !linkramsize

package main

import (
	"fmt"

	"github.com/pagesnap/pagesnap/board/qemu/microvm"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/virtio"
)

// The microvm board: TSC clock, COM1 console, DMA region after the
// runtime's memory, isa-debug-exit.

// The tick runs on the board's local APIC.
func init() { kernel.LAPIC = microvm.LAPIC }

func clockBanner() string { return fmt.Sprintf("TSC %d MHz", microvm.TSCFrequency()/1e6) }

func ticksPerSecond() uint64 { return microvm.TSCFrequency() }

func boardDMA() kernel.Range { return kernel.Range{Base: microvm.DMAStart, Size: microvm.DMASize} }

// virtioTransports are the board's virtio-mmio transports.
func virtioTransports() virtio.Transports {
	return virtio.Transports{Base: microvm.VIRTIO_MMIO_BASE, Stride: microvm.VIRTIO_MMIO_SIZE, Count: microvm.VIRTIO_MMIO_COUNT}
}

// routeDeviceIRQ routes virtio-mmio transport n's interrupt (GSI
// VIRTIO_MMIO_GSI+n, on the second I/O APIC) to the kernel's device
// vector, level-triggered (the transport holds its line high while
// InterruptStatus is not 0).
func routeDeviceIRQ(n int) error {
	vec, err := kernel.EnableDeviceIRQ()
	if err != nil {
		return err
	}
	return microvm.IOAPIC1.Route(microvm.VIRTIO_MMIO_GSI+n, vec, true)
}

func consoleRead() (byte, bool) { return microvm.UART0.Rx() }

const (
	crashHelp = "dereference a nil pointer: a page fault that is not the snapshot's (the kernel reports it and stops with status 3)"
	exitHelp  = "stop the machine with a status (QEMU exits with 2*code+1)"
)

// boardCommands returns the board's extra console commands: none.
func boardCommands(*kernel.Controller) map[string]*kernel.Command { return nil }

// dmaRoundOut is the unit the in-use DMA blocks are widened to for the
// eager set: the exact pages. pagesnap maps the DMA window with 2 MiB
// pages, but the 4 KiB table of a 2 MiB page holding DMA buffers is built
// before the instant (snapshot.Prepare), so copying the rest of the 2 MiB
// page (512 copies) would only lengthen the pause.
const dmaRoundOut = 4 << 10

// boardRAM is nil: pagesnap reads the RAM map QEMU describes.
func boardRAM() ([]kernel.Range, error) { return nil, nil }

// boardCPUs is the number of CPUs online, from QEMU (kernel.CPUCount).
func boardCPUs() (int, error) { return kernel.CPUCount() }
