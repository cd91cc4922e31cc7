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
	"strconv"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap"
	"github.com/pagesnap/pagesnap/console"
	"github.com/pagesnap/pagesnap/irq"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/virtio"
	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/snapshot"
)

// faultArmed: bench fault prepare ran; the next snap start runs the
// write-fault probe.
var faultArmed bool

// dmaIRQs returns how many interrupts the DMA device raised and how many
// of the driver's waits they ended early (virtio.RNGStats.Woken).
var dmaIRQs = func() (irqs, wakes uint64) { return 0, 0 }

func main() {
	fmt.Printf("pagesnap kernel: %s/%s %s, %s, %s\n", runtime.GOOS, runtime.GOARCH,
		runtime.Version(), runtime.CPU(), clockBanner())
	ram, err := boardRAM()
	if err != nil {
		fmt.Printf("pagesnap: setup failed: %v\n", err)
		os.Exit(2)
	}
	// pagesnap.Open installs the page tables, fault handlers, idle drain
	// and the periodic tick (preemption of goroutines that never block,
	// and the snapshot's drain share).
	snap, err := pagesnap.Open(pagesnap.Board{
		DMA:            boardDMA(),
		DMARoundOut:    dmaRoundOut,
		TicksPerSecond: ticksPerSecond(),
		RAM:            ram,
		CPUs:           boardCPUs,
	})
	if err != nil {
		fmt.Printf("pagesnap: setup failed: %v\n", err)
		os.Exit(2)
	}
	ctl := snap.Controller()
	m := ctl.M
	if m.Storage.Size < m.StorageNeeded() {
		fmt.Printf("pagesnap: warning: no RAM for the snapshot storage (needs %#x bytes after %#x, %#x left): only snap start disk can work (its default buffer needs %#x)\n",
			m.StorageNeeded(), m.Reserved.End(), m.Storage.Size, m.DiskStorageNeeded())
	}
	if n, err := snap.CPUs(); err != nil {
		fmt.Printf("pagesnap: CPU count unknown (%v): snap start will refuse\n", err)
	} else {
		fmt.Printf("pagesnap: %d CPU(s) online\n", n)
	}

	// A real device that writes memory by DMA while snapshots run.
	// Its completions interrupt (irq.Device, routed by the board).
	rng, err := virtio.OpenRNG(virtioTransports(), virtio.RNGConfig{Rotate: 64, Interrupts: true})
	if err != nil {
		fmt.Printf("pagesnap: no DMA device: %v\n", err)
	} else {
		irq.Device = rng.Interrupts()
		if err := routeDeviceIRQ(rng.Transport().Index); err != nil {
			fmt.Printf("pagesnap: virtio-rng interrupt: %v\n", err)
			os.Exit(2)
		}
		dmaIRQs = func() (uint64, uint64) { s := rng.Stats(); return s.Interrupts, s.Woken }
		// The device writes by DMA from boot on, as a network card would;
		// snapshots quiesce it only for the eager copy.
		if err := rng.Start(); err != nil {
			fmt.Printf("pagesnap: virtio-rng: %v\n", err)
			os.Exit(2)
		}
		fmt.Printf("pagesnap: virtio-rng on transport %d, %d buffers, writing by DMA\n", rng.Transport().Index, rng.QueueSize())
		snap.SetDevices(func() error { return rng.Quiesce(time.Second) }, rng.Resume)
	}

	// A disk for snapshots that leave the machine (snap start disk).
	if blk, err := virtio.OpenBlk(virtioTransports()); err != nil {
		fmt.Printf("pagesnap: no disk (snap start disk will refuse): %v\n", err)
	} else {
		ctl.Disk, ctl.DiskOwned, ctl.DiskRead = blk, blk.Owned, blk.ReadAt
		fmt.Printf("pagesnap: virtio-blk on transport %d, %d bytes\n", blk.Transport().Index, blk.Size())
		// A complete image a previous boot left on the disk is kept.
		if kept, instant, err := ctl.CheckDisk(); err != nil {
			fmt.Printf("pagesnap: reading the disk's header: %v\n", err)
		} else if kept {
			fmt.Printf("pagesnap: the disk holds a complete image (instant=%d): snap start disk refuses it without overwrite\n", instant)
		}
	}

	work := &kernel.Workload{ArrayBytes: 32 << 20}
	work.DMABytes = func() uint64 {
		if rng == nil {
			return 0
		}
		return rng.Stats().Bytes
	}
	cmds := commands(snap, work)
	// The write-fault probe (bench fault prepare) runs in snap start's
	// own call, right after the started line: no console round trip
	// between the instant and the stores, in which the drain would copy
	// the probe's pages first.
	snapStart := cmds["snap"].Run
	cmds["snap"].Run = func(out io.Writer, args []string) error {
		err := snapStart(out, args)
		if err == nil && len(args) > 0 && args[0] == "start" && faultArmed {
			faultArmed = false
			c := kernel.MeasureFaults()
			ns := func(t uint64) float64 { return snap.Micros(t) * 1e3 }
			fmt.Fprintln(out, lines.Fault{N: uint64(c.N), Faults: uint64(c.Faults), MedianNs: ns(c.Median), P99Ns: ns(c.P99),
				MaxNs: ns(c.Max), StoreNs: ns(c.Store)})
		}
		return err
	}
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

func commands(snap *pagesnap.Snapshotter, work *kernel.Workload) map[string]*kernel.Command {
	ctl := snap.Controller()
	return map[string]*kernel.Command{
		"snap": console.Snap(snap, func() string { return fmt.Sprintf("mark=%#x", kernel.MarkAtInstant()) }),
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
				irqs, wakes := dmaIRQs()
				a := work.ArrayRange()
				fmt.Fprintln(out, lines.Work{Running: work.Running(), Allocs: c.Allocs, Writes: c.Writes, T: time.Now().UnixNano(), DMABytes: c.DMABytes,
					Array: lines.Range{Base: a.Base, Size: a.Size}, Mode: work.Mode(), DMAIRQs: irqs, DMAWakes: wakes})
				return nil
			},
		},
		"tick": {
			Usage: "tick hz=N",
			Help:  "set the periodic timer interrupt's rate (1 to " + strconv.Itoa(kernel.MaxTickHz) + " per second; default 100), also during a snapshot (its drain share is kept): an interrupt storm",
			Run: func(out io.Writer, args []string) error {
				v, ok := "", false
				if len(args) == 1 {
					v, ok = strings.CutPrefix(args[0], "hz=")
				}
				n, err := strconv.ParseUint(v, 10, 32)
				if !ok || err != nil {
					return fmt.Errorf("usage: tick hz=N")
				}
				if err := ctl.SetTickHz(uint32(n)); err != nil {
					return err
				}
				fmt.Fprintf(out, "tick: %d Hz\n", n)
				return nil
			},
		},
		"dma": {
			Usage: "dma hog N|free",
			Help:  "hog: hold N KiB of DMA memory as one block, and up to N KiB more of the pages freed below it while the hog runs (the virtio-rng's buffer rotations are then allocated past the block: outside a snapshot's eager set when hogged after its start); free: stop and release it all",
			Run: func(out io.Writer, args []string) error {
				switch {
				case len(args) == 2 && args[0] == "hog":
					n, err := strconv.Atoi(args[1])
					if err != nil || n < 4 || n > 4096 {
						return fmt.Errorf("dma hog: bad size %q: want KiB from 4 to 4096", args[1])
					}
					a := hog.start(n)
					fmt.Fprintf(out, "dma: hogged %#x+%#x, holding the pages freed below it\n", a, n<<10)
				case len(args) == 1 && args[0] == "free":
					fmt.Fprintf(out, "dma: released %d blocks\n", hog.free())
				default:
					return fmt.Errorf("usage: dma hog N|free")
				}
				return nil
			},
		},
		"crash": {
			Usage: "crash nil|storage" + crashVariantsUsage,
			Help:  crashHelp + "; storage: store a word into the snapshot storage (a kept image is write-protected: the same fatal fault)" + crashVariantsHelp,
			Run: func(out io.Writer, args []string) error {
				if len(args) == 1 {
					if f, ok := crashVariants[args[0]]; ok {
						return f(out)
					}
				}
				if len(args) != 1 || (args[0] != "nil" && args[0] != "storage") {
					return fmt.Errorf("usage: crash nil|storage%s", crashVariantsUsage)
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
		"bench": {
			Usage: "bench copy [N]|fault prepare N|hash [N]",
			Help:  "copy: time N bare 4 KiB page copies one at a time (default 1000; memmove and the engine's copy loop), the unit of the benchmark's pause and fault costs; fault prepare: allocate and write N pages; the next snap start, as soon as it has started, times one store to each (the write faults) and a second one; hash: time N digests of a 4 KiB page one at a time (default 200) with each hash algorithm of the snapshot format, and list the SIMD features Go's packages can use",
			Run: func(out io.Writer, args []string) error {
				ns := func(t uint64) float64 { return snap.Micros(t) * 1e3 }
				if len(args) >= 1 && args[0] == "hash" {
					n := 200
					if len(args) > 2 {
						return fmt.Errorf("usage: bench hash [N]")
					}
					if len(args) == 2 {
						v, err := strconv.Atoi(args[1])
						if err != nil || v < 1 || v > 100000 {
							return fmt.Errorf("bench hash: bad count %q: want 1 to 100000", args[1])
						}
						n = v
					}
					cpu := kernel.SIMDFeatures()
					for _, c := range kernel.MeasureHash(n) {
						fmt.Fprintln(out, lines.Hash{Alg: snapshot.HashName(c.Alg), CPU: cpu, N: uint64(c.N), Ns: ns(c.Median),
							MinNs: ns(c.Min), Kernel: c.Alg == snapshot.KernelHashAlg(runtime.GOARCH)})
					}
					return nil
				}
				if len(args) >= 1 && args[0] == "fault" {
					switch {
					case len(args) == 3 && args[1] == "prepare":
						v, err := strconv.Atoi(args[2])
						if err != nil || v < 1 || v > 16384 {
							return fmt.Errorf("bench fault prepare: bad count %q: want 1 to 16384 pages", args[2])
						}
						kernel.PrepareFaultProbe(v)
						faultArmed = true
						fmt.Fprintf(out, "bench: fault prepared %d pages: the next snap start stores to them\n", v)
					default:
						return fmt.Errorf("usage: bench fault prepare N")
					}
					return nil
				}
				n := 1000
				if len(args) == 2 {
					v, err := strconv.Atoi(args[1])
					if err != nil || v < 1 || v > 1000000 {
						return fmt.Errorf("bench copy: bad count %q: want 1 to 1000000", args[1])
					}
					n = v
				}
				if len(args) < 1 || len(args) > 2 || args[0] != "copy" {
					return fmt.Errorf("usage: bench copy [N]|fault prepare N|hash [N]")
				}
				c := kernel.MeasureCopy(n)
				fmt.Fprintln(out, lines.Copy{N: uint64(n), MemmoveNs: ns(c.MemmoveMedian), MemmoveMinNs: ns(c.MemmoveMin),
					LoopNs: ns(c.LoopMedian), LoopMinNs: ns(c.LoopMin)})
				return nil
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
