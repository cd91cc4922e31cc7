//go:build tamago && arm64

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/probe"
)

// What every arm64 board shares (board/aarch64): the probe command, the
// exit and crash texts, the DMA round-out; the board's own glue is
// board_virt_arm64.go (QEMU virt) or board_imx8mpevk.go.

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
	exitHelp  = "stop the machine with a status (QEMU exits with code, through semihosting; on the EVK the status is lost: PSCI SYSTEM_OFF)"
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

// boardRAM is nil: pagesnap reads the RAM map from the board
// (kernel.Board).
func boardRAM() ([]kernel.Range, error) { return nil, nil }

// boardCPUs is the number of CPUs online, from the board (kernel.CPUCount).
func boardCPUs() (int, error) { return kernel.CPUCount() }
