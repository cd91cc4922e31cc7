//go:build tamago

package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/snapshot"
)

// DMAMode says which DMA memory a snapshot copies eagerly.
type DMAMode int

// DMA modes.
const (
	// DMAInUse copies the DMA buffers and rings in use at the instant;
	// buffers allocated later are copied by the allocation guard before a
	// device can see them. The default.
	DMAInUse DMAMode = iota
	// DMAWhole copies the whole DMA window at the instant.
	DMAWhole
	// DMANone leaves DMA out of the eager set. It is wrong on purpose: the
	// negative control, whose image the verifier must reject.
	DMANone
)

func (m DMAMode) String() string {
	return [...]string{"inuse", "whole", "none"}[m]
}

// Controller runs snapshots of one Machine.
type Controller struct {
	M *Machine
	// TicksPerSecond is the frequency of Cycles, for pause and rate figures.
	TicksPerSecond uint64
	// DMA returns the ranges devices may write, for a mode.
	DMA func(mode DMAMode) []Range
	// Log receives progress and completion lines.
	Log func(format string, args ...any)
	// Quiesce, if set, stops device DMA for the few milliseconds of Start
	// (devices write beside the CPU even with interrupts off, so a DMA
	// page's eager copy would otherwise not show the instant); Resume
	// restarts it. Devices keep writing during the rest of the capture.
	Quiesce func() error
	Resume  func()

	mu        sync.Mutex
	s         *snapshot.Snapshot
	mode      DMAMode
	started   time.Time
	finished  time.Duration
	pause     uint64 // ticks with interrupts off in Start
	drainIdle uint64
	idleCalls uint64
}

// Errors of the controller.
var (
	ErrBusy = errors.New("snap: a snapshot is already running")
	ErrNone = errors.New("snap: no snapshot has been taken")
)

// snapshotInstant marks the snapshot instant: Start calls it (through the
// engine's Clock) with interrupts off, before copying anything. The host
// harness puts a breakpoint here to take its reference image. It must stay
// a real function: the harness finds it by this symbol name.
//
//go:nosplit
//go:noinline
func snapshotInstant() uint64 {
	return cycles()
}

// Result describes a started snapshot.
type Result struct {
	Mode           DMAMode
	Instant        uint64
	PauseTicks     uint64
	EagerPages     uint64
	EntriesTouched uint64
	DMARanges      []Range
}

// Start takes a snapshot: it prepares the engine, then, with interrupts off
// and on the snapshot stack (outside captured RAM, so the instant is not
// disturbed by the call itself), copies the eager set and protects the
// rest. The drain then runs from the idle hook (and a background
// goroutine if the machine never idles); Log reports progress.
func (c *Controller) Start(mode DMAMode) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s != nil {
		if p := c.s.Phase(); p == snapshot.PhaseCapturing || p == snapshot.PhaseHashing {
			return nil, ErrBusy
		}
	}
	if c.M.Storage.Size == 0 {
		return nil, fmt.Errorf("%w: it needs %#x bytes after %#x", ErrNoStorage, c.M.StorageNeeded(), c.M.Reserved.End())
	}
	if c.Quiesce != nil {
		if err := c.Quiesce(); err != nil {
			return nil, fmt.Errorf("snap: quiescing devices: %w", err)
		}
		defer c.Resume()
	}
	var s *snapshot.Snapshot
	var dmaRanges []Range
	// dma.Begin keeps DMA allocation out while the eager set is computed
	// and the snapshot starts; the guard it installs copies every DMA
	// block allocated afterwards before a device can learn its address.
	err := dma.Begin(func() (dma.Guard, error) {
		if c.DMA != nil {
			dmaRanges = c.DMA(mode)
		}
		var err error
		if s, err = c.start(mode, dmaRanges); err != nil {
			return nil, err
		}
		if mode == DMANone {
			return nil, nil // the negative control has no guard either
		}
		return func(base, size uint64) {
			for a := base &^ 0xfff; a < base+size; a += 4096 {
				handleWriteFault(s, a)
			}
		}, nil
	})
	if err != nil {
		return nil, err
	}
	st := s.Stats()
	go c.finish(s)
	return &Result{Mode: mode, Instant: s.Instant(), PauseTicks: c.pause,
		EagerPages: st.EagerPages, EntriesTouched: st.EntriesTouched, DMARanges: dmaRanges}, nil
}

// start creates the engine and starts it with interrupts off on the
// snapshot stack.
func (c *Controller) start(mode DMAMode, dmaRanges []Range) (*snapshot.Snapshot, error) {
	s, err := snapshot.New(snapshot.Config{
		Ranges:  c.M.Captured,
		Storage: c.M.Storage,
		DMA:     dmaRanges,
		Mem:     PhysMem{},
		Tables:  c.M.Tables,
		TLB:     TLB{},
		Clock:   snapshotInstant,
		// Until `snap start` takes an overwrite argument (and `snap
		// discard` exists), every start may overwrite the last image, as
		// before the engine kept complete images (snapshot.ErrImageKept).
		Overwrite: true,
	})
	if err != nil {
		return nil, err
	}
	// The fault path writes the engine's counters and the table pool's
	// index: those heap pages are copied eagerly and never protected.
	err = s.AddEager(
		pageRange(uint64(uintptr(unsafe.Pointer(s))), uint64(unsafe.Sizeof(*s))),
		pageRange(uint64(uintptr(unsafe.Pointer(c.M.Tables))), uint64(unsafe.Sizeof(*c.M.Tables))),
		pageRange(uint64(uintptr(unsafe.Pointer(c.M.Tables.Pool))), poolSize),
	)
	if err != nil {
		return nil, err
	}
	runtime.GC() // start from a quiet heap: fewer faults right after the instant
	c.s, c.mode = s, mode
	active.Store(s)
	var startErr error
	start := func() { startErr = s.Start() }
	flags := cli()
	noteMark() // interrupts off: Mark keeps this value until the instant
	t0 := cycles()
	runOnStack(c.M.SnapStackTop, start)
	t1 := cycles()
	restoreFlags(flags)
	c.started = time.Now()
	c.finished = 0
	c.pause = t1 - t0
	return s, startErr
}

// poolSize bounds the size of an mmu.Pool value (three words).
const poolSize = 64

// Micros converts ticks to microseconds.
func (c *Controller) Micros(ticks uint64) float64 {
	if c.TicksPerSecond == 0 {
		return 0
	}
	return float64(ticks) * 1e6 / float64(c.TicksPerSecond)
}

// drainBudget is how many pages one idle call drains: small, so that a
// timer that expires meanwhile is late by little (about 16 page copies).
const drainBudget = 16

// Idle is the board's idle hook wrapped with the drain: while a snapshot is
// capturing it copies drainBudget pages per call instead of halting. It
// runs on the scheduler's stack with no P: DrainStep's capture phase
// allocates nothing.
func (c *Controller) Idle(next func(int64)) func(int64) {
	return func(until int64) {
		c.idleCalls++
		if s := active.Load(); s != nil && s.Phase() == snapshot.PhaseCapturing {
			if _, err := s.DrainStep(drainBudget); err == nil {
				c.drainIdle++
				return
			}
		}
		if next != nil {
			next(until)
		}
	}
}

// finish follows a snapshot to completion: it reports progress, drains
// from a goroutine if the machine never idles, and hashes the manifest
// (which allocates, so it is not done from the idle hook).
func (c *Controller) finish(s *snapshot.Snapshot) {
	last := s.Progress()
	lastReport := time.Now()
	stalled := 0
	for {
		time.Sleep(10 * time.Millisecond)
		p := s.Progress()
		switch p.Phase {
		case snapshot.PhaseCapturing:
			if p.Copied == last.Copied {
				stalled++
			} else {
				stalled = 0
			}
			if stalled >= 5 { // 50 ms without idle time: drain here
				for i := 0; i < 64 && s.Phase() == snapshot.PhaseCapturing; i++ {
					s.DrainStep(drainBudget)
					runtime.Gosched()
				}
			}
		case snapshot.PhaseHashing:
			for i := 0; i < 16 && s.Phase() == snapshot.PhaseHashing; i++ {
				s.DrainStep(256)
				runtime.Gosched()
			}
		case snapshot.PhaseDone:
			dma.SetGuard(nil)
			c.mu.Lock()
			c.finished = time.Since(c.started)
			c.mu.Unlock()
			st := s.Stats()
			c.log("snap: complete pages=%d eager=%d faults=%d fault-copies=%d drained=%d discards=%d pool-used=%d total=%v",
				p.Pages, st.EagerPages, st.Faults, st.FaultCopies, st.DrainedPages, st.DrainDiscards, st.PoolUsed, c.finished.Round(time.Millisecond))
			return
		default:
			dma.SetGuard(nil)
			c.log("snap: stopped in phase %v", p.Phase)
			return
		}
		if time.Since(lastReport) >= 500*time.Millisecond {
			dt := time.Since(lastReport).Seconds()
			rate := float64(p.Copied-last.Copied) / dt
			c.log("snap: progress %s %d%% copied=%d/%d hashed=%d pages/s=%.0f",
				p.Phase, p.Copied*100/max(p.Pages, 1), p.Copied, p.Pages, p.Hashed, rate)
			last, lastReport = p, time.Now()
		}
	}
}

func (c *Controller) log(format string, args ...any) {
	if c.Log != nil {
		c.Log(format, args...)
	}
}

// Status describes the current or last snapshot.
func (c *Controller) Status() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s == nil {
		return "", ErrNone
	}
	p, st := c.s.Progress(), c.s.Stats()
	return fmt.Sprintf("snap: phase=%s dma=%s copied=%d/%d (%d%%) hashed=%d eager=%d faults=%d fault-copies=%d drained=%d idle-drains=%d/%d entries-touched=%d pause=%.1fus",
		p.Phase, c.mode, p.Copied, p.Pages, p.Copied*100/max(p.Pages, 1), p.Hashed, st.EagerPages, st.Faults,
		st.FaultCopies, st.DrainedPages, c.drainIdle, c.idleCalls, st.EntriesTouched, c.Micros(c.pause)), nil
}

// Verify checks the finished image in storage: header, copy map and every
// page against the manifest (the same check the host tool runs).
func (c *Controller) Verify() (string, error) {
	c.mu.Lock()
	s := c.s
	c.mu.Unlock()
	if s == nil {
		return "", ErrNone
	}
	if p := s.Phase(); p != snapshot.PhaseDone {
		return "", fmt.Errorf("snap: image not complete (phase %s)", p)
	}
	st := c.M.Storage
	img, err := snapshot.ReadImage(physReaderAt(st.Base), int64(st.Size))
	if err != nil {
		return "", err
	}
	if err := img.Verify(); err != nil {
		return "", err
	}
	root, err := img.RootHash()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("snap: verify ok pages=%d root=%x", img.NumPages, root), nil
}

// physReaderAt reads physical memory from base as an io.ReaderAt.
type physReaderAt uint64

func (p physReaderAt) ReadAt(b []byte, off int64) (int, error) {
	PhysMem{}.Read(uint64(p)+uint64(off), b)
	return len(b), nil
}

// Snapshot returns the engine of the current or last snapshot.
func (c *Controller) Snapshot() *snapshot.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.s
}
