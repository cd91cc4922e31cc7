//go:build tamago && arm64

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pagesnap/pagesnap/board/aarch64"
	"github.com/pagesnap/pagesnap/board/qemu/virt"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/probe"
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

// changedList formats the names of changed registers for a probe line.
func changedList(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, " ") + ")"
}

// crashVariants: the amd64 kernel's fetch and nested; none here (the
// board's exception vectors report aborts).
const (
	crashVariantsUsage = ""
	crashVariantsHelp  = ""
)

var crashVariants map[string]func(io.Writer) error

const (
	crashHelp = "dereference a nil pointer: an abort that is not the snapshot's (the board turns it into a Go panic: status 2)"
	exitHelp  = "stop the machine with a status (QEMU exits with code, through semihosting)"
)

// boardCommands returns the arm64 console's extra command, probe.
func boardCommands(ctl *kernel.Controller) map[string]*kernel.Command {
	return map[string]*kernel.Command{
		"probe": {
			Usage: "probe [irq|cas]",
			Help: "probe: take a snapshot (dma inuse) and right after its start store to a write-protected page with known values in X0-X17, X19-X27 and V0-V31: checks that the data abort handler resolved the fault and preserved every register; " +
				"probe irq: spin with those known values until 20 timer interrupts have come and check that none changed a register; " +
				"probe cas: take a snapshot and do a sync/atomic compare-and-swap on each of 4096 write-protected pages while the tick runs: counts those that reported success without storing (lost)",
			Run: func(out io.Writer, args []string) error {
				switch {
				case len(args) == 0:
					buf := make([]byte, 8<<20) // allocated before the instant: captured, protected
					if _, err := ctl.Start(kernel.StartOptions{Mode: kernel.DMAInUse, Overwrite: true}); err != nil {
						return err
					}
					r, err := probe.Run(ctl, buf)
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "probe: protected=%v faults=%d writable=%v stored=%v changed-registers=%d%s\n",
						r.Protected, r.Faults, r.Writable, r.Stored, len(r.Changed), changedList(r.Changed))
				case len(args) == 1 && args[0] == "irq":
					if kernel.Ticks() == 0 {
						return fmt.Errorf("probe irq: the timer tick is not running")
					}
					r := probe.RunIRQ(kernel.Ticks, 20)
					fmt.Fprintf(out, "probe irq: ticks=%d rounds=%d changed-registers=%d%s\n", r.Ticks, r.Rounds, len(r.Changed), changedList(r.Changed))
				case len(args) == 1 && args[0] == "cas":
					const pages = 4096
					buf := make([]uint64, pages*512)
					for i := 0; i < pages; i++ {
						buf[i*512] = uint64(i)
					}
					if _, err := ctl.Start(kernel.StartOptions{Mode: kernel.DMAInUse, Overwrite: true}); err != nil {
						return err
					}
					r, err := probe.RunCAS(ctl, buf)
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "probe cas: pages=%d protected=%d lost=%d lse=%v\n", r.Pages, r.Protected, r.Lost, probe.LSE())
				default:
					return fmt.Errorf("usage: probe [irq|cas]")
				}
				return nil
			},
		},
	}
}

// dmaRoundOut is the unit the in-use DMA blocks are widened to for the
// eager set: the whole captured RAM is mapped with 4 KiB pages on arm64
// (no split ever), so the exact pages are cheapest.
const dmaRoundOut = 4 << 10

// boardRAM is nil: pagesnap reads the RAM map QEMU describes.
func boardRAM() ([]kernel.Range, error) { return nil, nil }

// boardCPUs is the number of CPUs online, from QEMU (kernel.CPUCount).
func boardCPUs() (int, error) { return kernel.CPUCount() }
