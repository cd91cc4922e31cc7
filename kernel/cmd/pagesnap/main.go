// Command pagesnap is the pagesnap kernel for QEMU microvm (amd64) and
// QEMU virt (arm64): it boots, installs pagesnap's page tables and fault
// handler, runs a write-heavy workload on request and takes live snapshots
// of physical memory from serial console commands (type help). The board
// specifics are in board_amd64.go and board_arm64.go.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/goos"
	"strconv"
	"time"

	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/virtio"
)

func main() {
	fmt.Printf("pagesnap kernel: %s/%s %s, %s, %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.Version(), runtime.CPU(), clockBanner())
	dmaWindow := boardDMA()
	m, err := kernel.Setup(dmaWindow)
	if err != nil {
		fmt.Printf("pagesnap: setup failed: %v\n", err)
		os.Exit(2)
	}
	// The periodic tick: preemption of goroutines that never block.
	if err := kernel.StartTick(0); err != nil {
		fmt.Printf("pagesnap: tick: %v\n", err)
		os.Exit(2)
	}
	fmt.Println(m)
	if m.Storage.Size == 0 {
		fmt.Printf("pagesnap: warning: no RAM for the snapshot storage (needs %#x bytes after %#x): snap start will fail\n",
			m.StorageNeeded(), m.Reserved.End())
	}

	ctl := &kernel.Controller{
		M:              m,
		TicksPerSecond: ticksPerSecond(),
		DMA: func(mode kernel.DMAMode) []kernel.Range {
			switch mode {
			case kernel.DMANone:
				return nil
			case kernel.DMAWhole:
				return dma.Window(nil)
			default:
				return kernel.RoundOut(dma.InUse(nil), dmaRoundOut, dmaWindow)
			}
		},
		Log: func(format string, args ...any) { fmt.Printf(format+"\n", args...) },
	}
	goos.Idle = ctl.Idle(goos.Idle)

	// A real device that writes memory by DMA while snapshots run.
	rng, err := virtio.OpenRNG(virtio.RNGConfig{Rotate: 64})
	if err != nil {
		fmt.Printf("pagesnap: no DMA device: %v\n", err)
	} else {
		// The device writes by DMA from boot on, as a network card would;
		// snapshots quiesce it only for the eager copy.
		if err := rng.Start(); err != nil {
			fmt.Printf("pagesnap: virtio-rng: %v\n", err)
			os.Exit(2)
		}
		fmt.Printf("pagesnap: virtio-rng on transport %d, %d buffers, writing by DMA\n", rng.Transport().Index, rng.QueueSize())
		ctl.Quiesce = func() error {
			return rng.Quiesce(time.Second)
		}
		ctl.Resume = rng.Resume
	}

	work := &kernel.Workload{ArrayBytes: 32 << 20}
	work.DMABytes = func() uint64 {
		if rng == nil {
			return 0
		}
		return rng.Stats().Bytes
	}
	cmds := commands(ctl, work)
	for name, cmd := range boardCommands(ctl) {
		cmds[name] = cmd
	}
	con := &kernel.Console{
		Read:     consoleRead,
		Out:      os.Stdout,
		Commands: cmds,
	}
	fmt.Println("pagesnap: ready")
	con.Serve()
}

func commands(ctl *kernel.Controller, work *kernel.Workload) map[string]*kernel.Command {
	return map[string]*kernel.Command{
		"snap": {
			Usage: "snap start [inuse|whole|none]",
			Help:  "take a live snapshot (DMA eager set: in-use buffers, whole window, or none = negative control); snap status; snap verify",
			Run: func(out io.Writer, args []string) error {
				if len(args) == 0 {
					return fmt.Errorf("usage: snap start [inuse|whole|none] | snap status | snap verify")
				}
				switch args[0] {
				case "start":
					mode := kernel.DMAInUse
					if len(args) > 1 {
						switch args[1] {
						case "inuse":
						case "whole":
							mode = kernel.DMAWhole
						case "none":
							mode = kernel.DMANone
						default:
							return fmt.Errorf("snap start: unknown DMA mode %q (inuse, whole or none)", args[1])
						}
					}
					r, err := ctl.Start(mode)
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "snap: started dma=%s instant=%d pause=%.1fus pause-ticks=%d eager=%d entries-touched=%d dma-ranges=%d mark=%#x\n",
						r.Mode, r.Instant, ctl.Micros(r.PauseTicks), r.PauseTicks, r.EagerPages, r.EntriesTouched, len(r.DMARanges), kernel.MarkAtInstant())
					return nil
				case "status":
					s, err := ctl.Status()
					if err != nil {
						return err
					}
					fmt.Fprintln(out, s)
					return nil
				case "verify":
					s, err := ctl.Verify()
					if err != nil {
						return err
					}
					fmt.Fprintln(out, s)
					return nil
				}
				return fmt.Errorf("snap: unknown subcommand %q (start, status, verify)", args[0])
			},
		},
		"work": {
			Usage: "work start|stop|stats",
			Help:  "control the write-heavy workload (GC churn, array mutation); stats prints cumulative counters",
			Run: func(out io.Writer, args []string) error {
				if len(args) != 1 {
					return fmt.Errorf("usage: work start|stop|stats")
				}
				switch args[0] {
				case "start":
					work.Start()
				case "stop":
					work.Stop()
				case "stats":
				default:
					return fmt.Errorf("work: unknown subcommand %q (start, stop, stats)", args[0])
				}
				c := work.Counters()
				a := work.ArrayRange()
				fmt.Fprintf(out, "work: running=%v allocs=%d writes=%d t=%d dma-bytes=%d array=%#x+%#x\n", work.Running(), c.Allocs, c.Writes, time.Now().UnixNano(), c.DMABytes, a.Base, a.Size)
				return nil
			},
		},
		"crash": {
			Usage: "crash nil",
			Help:  crashHelp,
			Run: func(out io.Writer, args []string) error {
				if len(args) != 1 || args[0] != "nil" {
					return fmt.Errorf("usage: crash nil")
				}
				fmt.Fprintln(out, "crash: dereferencing nil")
				return fmt.Errorf("crash: survived %d", crashTarget.v)
			},
		},
		"stacks": {
			Usage: "stacks",
			Help:  "print every goroutine's stack (debugging)",
			Run: func(out io.Writer, args []string) error {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				out.Write(buf[:n])
				return nil
			},
		},
		"info": {
			Usage: "info",
			Help:  "print the memory layout",
			Run: func(out io.Writer, args []string) error {
				fmt.Fprintln(out, ctl.M)
				return nil
			},
		},
		"exit": {
			Usage: "exit [code]",
			Help:  exitHelp,
			Run: func(out io.Writer, args []string) error {
				code := 0
				if len(args) > 0 {
					n, err := strconv.Atoi(args[0])
					if err != nil || n < 0 || n > 127 {
						return fmt.Errorf("exit: bad status %q (0-127)", args[0])
					}
					code = n
				}
				os.Exit(code)
				return nil
			},
		},
	}
}

// crashTarget is nil: reading through it faults at address 0 (page 0 is
// not mapped).
var crashTarget *struct{ v int }
