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
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/virtio"
)

func main() {
	fmt.Printf("pagesnap kernel: %s/%s %s, %s, %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.Version(), runtime.CPU(), clockBanner())
	dmaWindow := boardDMA()
	m, err := boardSetup(dmaWindow)
	if err != nil {
		fmt.Printf("pagesnap: setup failed: %v\n", err)
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
	ctl.InstallIRQ()
	// The periodic tick: preemption of goroutines that never block, and
	// the snapshot's drain share (irq.Tick, set just above).
	if err := kernel.StartTick(0); err != nil {
		fmt.Printf("pagesnap: tick: %v\n", err)
		os.Exit(2)
	}
	if n, err := boardCPUs(); err != nil {
		fmt.Printf("pagesnap: CPU count unknown (%v): snap start will refuse\n", err)
		ctl.CPUs = -1
	} else {
		ctl.CPUs = n
		fmt.Printf("pagesnap: %d CPU(s) online\n", n)
	}

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
			Usage: "snap start [inuse|whole|none] [share=N%] [overwrite]",
			Help:  "take a live snapshot (DMA eager set: in-use buffers, whole window, or none = negative control; share: CPU the timer tick drains, default " + strconv.Itoa(kernel.DefaultShare) + "%; overwrite: replace a kept image); snap status; snap verify; snap discard (drop the kept image)",
			Run: func(out io.Writer, args []string) error {
				if len(args) == 0 {
					return fmt.Errorf("usage: snap start [inuse|whole|none] [share=N%%] [overwrite] | snap status | snap verify | snap discard")
				}
				switch args[0] {
				case "start":
					o, err := parseStart(args[1:])
					if err != nil {
						return err
					}
					r, err := ctl.Start(o)
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "snap: started dma=%s instant=%d pause=%.1fus pause-ticks=%d eager=%d entries-touched=%d dma-ranges=%d share=%d%% mark=%#x\n",
						r.Mode, r.Instant, ctl.Micros(r.PauseTicks), r.PauseTicks, r.EagerPages, r.EntriesTouched, len(r.DMARanges), r.Share, kernel.MarkAtInstant())
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
				case "discard":
					if err := ctl.Discard(); err != nil {
						return err
					}
					fmt.Fprintln(out, "snap: discarded: the storage is writable again")
					return nil
				}
				return fmt.Errorf("snap: unknown subcommand %q (start, status, verify, discard)", args[0])
			},
		},
		"work": {
			Usage: "work start [cpu]|stop|stats",
			Help:  "control the write-heavy workload (GC churn, array mutation; it sleeps 1 ms per batch, or with cpu never blocks: two spinning writers and churn without pauses); stats prints cumulative counters",
			Run: func(out io.Writer, args []string) error {
				if len(args) == 0 || len(args) > 2 || (len(args) == 2 && (args[0] != "start" || args[1] != "cpu")) {
					return fmt.Errorf("usage: work start [cpu]|stop|stats")
				}
				switch args[0] {
				case "start":
					if len(args) == 2 {
						work.StartCPU()
					} else {
						work.Start()
					}
				case "stop":
					work.Stop()
				case "stats":
				default:
					return fmt.Errorf("work: unknown subcommand %q (start, stop, stats)", args[0])
				}
				c := work.Counters()
				a := work.ArrayRange()
				fmt.Fprintf(out, "work: running=%v allocs=%d writes=%d t=%d dma-bytes=%d array=%#x+%#x mode=%s\n", work.Running(), c.Allocs, c.Writes, time.Now().UnixNano(), c.DMABytes, a.Base, a.Size, work.Mode())
				return nil
			},
		},
		"crash": {
			Usage: "crash nil|storage",
			Help:  crashHelp + "; storage: store a word into the snapshot storage (a kept image is write-protected: the same fatal fault)",
			Run: func(out io.Writer, args []string) error {
				if len(args) != 1 || (args[0] != "nil" && args[0] != "storage") {
					return fmt.Errorf("usage: crash nil|storage")
				}
				if args[0] == "storage" {
					fmt.Fprintf(out, "crash: storing into the storage at %#x (kept image: %v)\n", ctl.M.Storage.Base+8, ctl.Kept())
					kernel.PhysMem{}.Store64(ctl.M.Storage.Base+8, 0xbad)
					return fmt.Errorf("crash: the store into the storage did not fault")
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

// parseStart parses the words after "snap start".
func parseStart(args []string) (kernel.StartOptions, error) {
	var o kernel.StartOptions
	modeSet := false
	for _, a := range args {
		switch {
		case a == "inuse" || a == "whole" || a == "none":
			if modeSet {
				return o, fmt.Errorf("snap start: DMA mode given twice (%q)", a)
			}
			modeSet = true
			o.Mode = map[string]kernel.DMAMode{"inuse": kernel.DMAInUse, "whole": kernel.DMAWhole, "none": kernel.DMANone}[a]
		case a == "overwrite":
			o.Overwrite = true
		case strings.HasPrefix(a, "share="):
			v, ok := strings.CutSuffix(strings.TrimPrefix(a, "share="), "%")
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n < 1 || n > kernel.MaxShare {
				return o, fmt.Errorf("snap start: bad share %q: want share=N%% with N a whole number from 1 to %d", a, kernel.MaxShare)
			}
			o.Share = n
		default:
			return o, fmt.Errorf("snap start: unknown argument %q (inuse, whole, none, share=N%%, overwrite)", a)
		}
	}
	return o, nil
}

// crashTarget is nil: reading through it faults at address 0 (page 0 is
// not mapped).
var crashTarget *struct{ v int }
