//go:build tamago

// Package pagesnap takes live, bit-exact snapshots of physical memory from
// inside a TamaGo application: the application keeps running (goroutines,
// the garbage collector, devices writing by DMA) and the image equals memory
// at the snapshot instant, page for page (see snapshot/doc.go for the
// method, README.md for the limits: one CPU, DMA only in the board's DMA
// window through package dma).
//
// An application describes its board, opens pagesnap once, and starts
// snapshots when it wants:
//
//	s, err := pagesnap.Open(pagesnap.Board{
//		DMA:            pagesnap.Range{Base: microvm.DMAStart, Size: microvm.DMASize},
//		TicksPerSecond: microvm.TSCFrequency(),
//		Platform:       pagesnap.Platform{LAPIC: microvm.LAPIC},
//	})
//	...
//	started, err := s.Start(pagesnap.Options{})   // the instant
//	err = s.Wait(time.Minute)                      // the image is complete
//	line, err := s.Verify()                        // check it against its manifest
//
// Package console mounts the same operations as the snap console command
// (snap start|status|verify|discard) on an application's console.
// examples/trigger is a complete application.
package pagesnap

import (
	"fmt"
	"runtime"
	"runtime/goos"
	"time"

	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/memrange"
)

// Range is a physical address range.
type Range = kernel.Range

// DMAMode says which DMA memory a snapshot copies at its instant.
type DMAMode = kernel.DMAMode

// DMA modes.
const (
	// DMAInUse copies the DMA blocks in use (the default); blocks
	// allocated later are copied before a device learns their address.
	DMAInUse = kernel.DMAInUse
	// DMAWhole copies the whole DMA window.
	DMAWhole = kernel.DMAWhole
	// DMANone copies no DMA memory: wrong on purpose, the negative
	// control whose image verification must reject.
	DMANone = kernel.DMANone
)

// Options are the settings of one snapshot: DMA mode, drain share (percent
// of every timer tick, 0: DefaultShare) and whether to overwrite a kept
// image.
type Options = kernel.StartOptions

// Started describes a started snapshot: its instant, pause, eager pages.
type Started = kernel.Result

// DefaultShare is the drain share a snapshot gets unless told otherwise.
const DefaultShare = kernel.DefaultShare

// Errors, compared with errors.Is.
var (
	ErrBusy        = kernel.ErrBusy        // a snapshot is running
	ErrFinishing   = kernel.ErrFinishing   // the previous snapshot is still finishing
	ErrNone        = kernel.ErrNone        // no snapshot was started
	ErrKept        = kernel.ErrKept        // a complete image is kept: Discard or Options.Overwrite
	ErrNoImage     = kernel.ErrNoImage     // no complete image is kept
	ErrDiskKept    = kernel.ErrDiskKept    // the disk holds this boot's complete image: Discard or Options.Overwrite
	ErrSMP         = kernel.ErrSMP         // more than one CPU is online
	ErrShare       = kernel.ErrShare       // the share is outside 1-90 %
	ErrNoStorage   = kernel.ErrNoStorage   // no RAM is left for the storage
	ErrStopped     = kernel.ErrStopped     // the snapshot ended without a complete image
	ErrWaitTimeout = kernel.ErrWaitTimeout // Wait's time ran out
)

// Board describes the machine to pagesnap.
type Board struct {
	// DMA is the DMA window: the only memory devices may write by DMA.
	// It must follow the runtime's memory (goos.RamStart+goos.RamSize).
	DMA Range
	// DMARoundOut is the unit the DMA blocks in use are widened to for
	// the eager set; 0: the page-table leaf pagesnap maps the window
	// with (2 MiB on amd64, 4 KiB on arm64).
	DMARoundOut uint64
	// TicksPerSecond is the frequency of the processor's cycle counter
	// (TSC, CNTVCT_EL0), for pause and rate figures.
	TicksPerSecond uint64
	// RAM is the machine's RAM map; nil: from the firmware (fw_cfg's
	// e820 on amd64 QEMU, the device tree on arm64 QEMU virt).
	RAM []Range
	// CPUs returns the number of processors online; nil: from the
	// firmware (kernel.CPUCount). Start refuses more than one.
	CPUs func() (int, error)
	// Quiesce, if set, stops device DMA for the milliseconds of the
	// instant; Resume restarts it.
	Quiesce func() error
	Resume  func()
	// Log receives progress and completion lines; nil: standard output.
	Log func(format string, args ...any)
	// TickHz is the timer tick's rate; 0: the default (100 Hz).
	TickHz uint32
	// Platform is the architecture's devices pagesnap drives (amd64: the
	// local APIC whose timer runs the tick; arm64: the board's tick, RAM
	// map and CPU count, kernel.Board).
	Platform Platform
}

// Snapshotter takes the snapshots of one machine, one at a time.
type Snapshotter struct {
	ctl    *kernel.Controller
	cpus   int
	cpuErr error
}

// Open installs pagesnap on the machine: its own page tables and fault
// handlers, the idle drain, the timer tick (preemption and the drain's
// share). It logs the layout: line (Board.Log). Call it once, early in
// main.
func Open(b Board) (*Snapshotter, error) {
	b.Platform.install()
	var m *kernel.Machine
	var err error
	if b.RAM != nil {
		m, err = setupRAM(b.RAM, b.DMA)
	} else {
		m, err = kernel.Setup(b.DMA)
	}
	if err != nil {
		return nil, err
	}
	log := b.Log
	if log == nil {
		log = func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	}
	// The layout: line, which the host harness reads (qemu/live).
	log("%s", m)
	round := b.DMARoundOut
	if round == 0 {
		round = 4 << 10
		if runtime.GOARCH == "amd64" {
			round = 2 << 20
		}
	}
	window := b.DMA
	ctl := &kernel.Controller{
		M:              m,
		TicksPerSecond: b.TicksPerSecond,
		DMA: func(mode DMAMode) []Range {
			switch mode {
			case DMANone:
				return nil
			case DMAWhole:
				return dma.Window(nil)
			}
			return memrange.Set(dma.InUse(nil)).RoundOut(round, window)
		},
		Log:     log,
		Quiesce: b.Quiesce,
		Resume:  b.Resume,
	}
	goos.Idle = ctl.Idle(kernel.TickIdle(goos.Idle))
	ctl.InstallIRQ()
	if err := kernel.StartTick(b.TickHz); err != nil {
		return nil, fmt.Errorf("pagesnap: tick: %w", err)
	}
	cpus := b.CPUs
	if cpus == nil {
		cpus = kernel.CPUCount
	}
	n, cpuErr := cpus()
	ctl.CPUs = n
	if cpuErr != nil {
		ctl.CPUs = -1 // Start refuses: the count is unknown
	}
	return &Snapshotter{ctl: ctl, cpus: n, cpuErr: cpuErr}, nil
}

// CPUs returns the number of processors online found by Open, or why it
// is unknown (Start then refuses).
func (s *Snapshotter) CPUs() (int, error) { return s.cpus, s.cpuErr }

// SetDevices sets the hooks that stop device DMA for the instant and
// restart it (for devices opened after Open; Board.Quiesce otherwise).
// Call it while no snapshot is starting.
func (s *Snapshotter) SetDevices(quiesce func() error, resume func()) {
	s.ctl.Quiesce, s.ctl.Resume = quiesce, resume
}

// Start takes a snapshot: it returns once the instant is past (interrupts
// off for the eager copy and the write protection); the image completes in
// the background.
func (s *Snapshotter) Start(o Options) (*Started, error) { return s.ctl.Start(o) }

// Wait blocks until the snapshot's image is complete (nil), it stopped
// (ErrStopped), or timeout passed (ErrWaitTimeout).
func (s *Snapshotter) Wait(timeout time.Duration) error { return s.ctl.Wait(timeout) }

// Status returns the status line of the current or last snapshot.
func (s *Snapshotter) Status() (string, error) { return s.ctl.Status() }

// Verify checks the complete image against its manifest, in the guest,
// and returns the verify line.
func (s *Snapshotter) Verify() (string, error) { return s.ctl.Verify() }

// Protected counts the 4 KiB pages pagesnap's tables map read-only, of
// captured RAM and of the storage: none of captured RAM once an image is
// complete; all of the storage while a complete image is kept.
func (s *Snapshotter) Protected() (captured, storage uint64, err error) { return s.ctl.Protected() }

// Discard drops the kept image: the storage becomes writable again.
func (s *Snapshotter) Discard() error { return s.ctl.Discard() }

// Layout returns pagesnap's memory plan as the layout: line the host
// harness reads (captured ranges, DMA window, reserved region, storage).
func (s *Snapshotter) Layout() string { return s.ctl.M.String() }

// Storage returns where the image is kept in RAM.
func (s *Snapshotter) Storage() Range { return s.ctl.M.Storage }

// Micros converts cycle counts (Started.PauseTicks) to microseconds.
func (s *Snapshotter) Micros(ticks uint64) float64 { return s.ctl.Micros(ticks) }

// Controller returns the controller underneath, for kernels that need
// more than this package offers (probes, crash tests).
func (s *Snapshotter) Controller() *kernel.Controller { return s.ctl }
