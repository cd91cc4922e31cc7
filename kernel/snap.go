//go:build tamago

package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pagesnap/pagesnap/dma"
	"github.com/pagesnap/pagesnap/irq"
	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/mmu"
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

// Controller runs snapshots of one Machine, one at a time. Each snapshot
// is a run: its engine, DMA guard, drain counters and timestamps, followed
// to completion by its own finisher goroutine, which touches nothing else.
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
	// CPUs is the number of processors online (CPUCount); Start refuses
	// to run with more than one.
	CPUs int
	// Disk, if set, is the block device a snapshot started with
	// StartOptions.Disk streams its image to (snapshot.Config.Disk);
	// DiskOwned returns the driver's heap pages its requests write,
	// which the drain issues from the timer tick (eager set).
	Disk      snapshot.Disk
	DiskOwned func() []Range
	// DiskRead, if set, reads n bytes at byte offset off of the disk
	// into physical memory at dst, waiting (CheckDisk, at boot).
	DiskRead func(off, dst, n uint64) error

	mu        sync.Mutex          // serializes Start, Discard, Status
	cur       atomic.Pointer[run] // the current or last snapshot
	kept      atomic.Bool         // storage holds a complete image, write-protected
	diskKept  atomic.Bool         // the disk holds a complete image of this boot
	idleCalls uint64
}

// run is one snapshot. After Start only its finisher writes its fields,
// except the drain counters, which the timer tick and the idle hook write
// (the run's pages are in the eager set: never protected, so the tick
// takes no write fault on them).
type run struct {
	s       *snapshot.Snapshot
	mode    DMAMode
	share   int // percent of each timer tick period the tick drains
	started time.Time
	t0      uint64 // cycles at the end of Start
	pause   uint64 // ticks with interrupts off in Start
	tickFn  func() // r.tickDrain, for the tick (allocated before the instant)
	done    chan struct{}
	disk    bool // the image goes to Controller.Disk

	// Drain counters (cycles are Cycles ticks).
	tickBudget  uint64 // cycles the tick drains per timer interrupt
	ticks       uint64 // timer interrupts while capturing or hashing
	tickBusy    uint64 // ticks that found the drain running (idle hook)
	tickDebt    uint64 // cycles the last ticks overran their budget by, paid back by the next
	tickSkipped uint64 // ticks that did not drain, paying back an overrun
	tickSteps   uint64 // drain steps the tick made (at most tickBatch budget units each)
	tickCycles  uint64
	idleCalls   uint64
	idleCycles  uint64
	goCycles    uint64 // the fallback goroutine (no timer tick)
	doneCycles  uint64 // cycles when the engine reached PhaseDone
	finishedFor time.Duration
}

// Errors of the controller.
var (
	ErrBusy      = errors.New("snap: a snapshot is already running")
	ErrFinishing = errors.New("snap: the previous snapshot is still finishing")
	ErrNone      = errors.New("snap: no snapshot has been taken")
	ErrKept      = errors.New("snap: storage holds a complete image, kept write-protected: snap discard drops it, snap start overwrite replaces it")
	ErrNoImage   = errors.New("snap: no complete image is kept")
	ErrSMP       = errors.New("snap: pagesnap runs on one CPU only (TLB invalidation is local and write faults are not serialized across CPUs)")
	ErrShare     = errors.New("snap: the drain share must be a whole percentage from 1% to 90%")
	ErrNoDisk    = errors.New("snap: no disk: attach a virtio-blk device (QEMU: -drive file=snap.img,if=none,id=d,format=raw -device virtio-blk-device,drive=d)")
	ErrDiskTick  = errors.New("snap: a snapshot to disk needs the timer tick (a writer that fills the buffer waits for the tick's drain)")
	ErrDiskKept  = errors.New("snap: the disk holds a complete image (of this boot or found at boot): copy it off, then snap discard or snap start disk overwrite")
	ErrOnDisk    = errors.New("snap: the image is on the disk: verify it on the host (pagesnap verify snap.img)")
)

// DefaultShare is the drain share a snapshot gets unless told otherwise:
// the percentage of every timer tick period the tick spends draining
// (copying, then hashing) while a snapshot runs. See snapshot/doc.go,
// "Drain share", for how it was chosen.
const DefaultShare = 20

// MaxShare bounds the share: the program keeps at least 10 % of the CPU.
const MaxShare = 90

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
	Share          int
	Instant        uint64
	PauseTicks     uint64
	EagerPages     uint64
	EntriesTouched uint64
	DMARanges      []Range
}

// StartOptions are the settings of one snapshot.
type StartOptions struct {
	Mode DMAMode
	// Share is the drain share in percent (0: DefaultShare).
	Share int
	// Overwrite replaces a kept complete image.
	Overwrite bool
	// NoGuard installs no DMA allocation guard (a negative control: DMA
	// buffers allocated during the snapshot outside the eager set reach
	// the device uncopied, and verification must fail on those pages).
	NoGuard bool
	// Disk streams the image to Controller.Disk through a RAM buffer of
	// BufferPages pages (0: snapshot.DefaultBufferPages) in the storage
	// region, instead of keeping it in the storage region.
	Disk        bool
	BufferPages uint64
}

// guardRun is the snapshot whose engine the DMA allocation guard feeds.
// The guard installed in package dma is always dmaGuard; a finisher clears
// guardRun only if it still names its own run, so it can never remove the
// guard of a later snapshot.
var guardRun atomic.Pointer[run]

// dmaGuard copies DMA pages into the guarded snapshot before a device can
// learn their address.
//
// It runs in the allocating goroutine, but the engine's write-fault path
// (HandleWriteFault: the page state machine, the copy, the page-table
// update) is written for the fault handler: interrupts off and a stack of
// its own. Called with interrupts on, the timer tick could drain (and
// change the same page tables) in the middle of it or preempt the
// goroutine inside it, and its nosplit calls could run past the end of a
// small goroutine stack. So each page is copied with interrupts off on the
// snapshot stack, as Start does; the snapshot stack is free because the
// guard runs under package dma's lock, which Start also holds (dma.Begin)
// while it uses that stack. (This closes a hazard found while chasing the
// arm64 heap corruption after snapshots with a DMA hog; that bug was the
// exception entry clobbering R27, see board/aarch64/vectors_arm64.s.)
func dmaGuard(base, size uint64) {
	r := guardRun.Load()
	if r == nil {
		return
	}
	var a uint64
	copyPage := func() { handleWriteFault(r.s, a) }
	for a = base &^ 0xfff; a < base+size; a += 4096 {
		// With a disk, the fault path leaves the page uncopied while the
		// RAM buffer is full: wait, interrupts on, for the tick's drain
		// to free a slot (snapshot.Saved).
		for {
			flags := cli()
			if c := ticker; c != nil {
				runOnStack(c.M.SnapStackTop, copyPage)
			} else {
				copyPage() // no tick installed: nothing interrupts it
			}
			restoreFlags(flags)
			if r.s.Saved(a) {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// Start takes a snapshot: it prepares the engine, then, with interrupts off
// and on the snapshot stack (outside captured RAM, so the instant is not
// disturbed by the call itself), copies the eager set and protects the
// rest. The drain then runs from the timer tick (its share), the idle hook
// (all idle time) and, with no timer tick, a background goroutine; Log
// reports progress. Start refuses while a snapshot is capturing or
// hashing, waits (briefly) for the previous snapshot's finisher, and
// refuses to overwrite a kept image unless o.Overwrite.
func (c *Controller) Start(o StartOptions) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.CPUs > 1 {
		return nil, fmt.Errorf("%w: %d CPUs are online", ErrSMP, c.CPUs)
	}
	if c.CPUs < 1 {
		return nil, fmt.Errorf("%w: the number of CPUs online is unknown", ErrSMP)
	}
	if o.Share == 0 {
		o.Share = DefaultShare
	}
	if o.Share < 1 || o.Share > MaxShare {
		return nil, ErrShare
	}
	if prev := c.cur.Load(); prev != nil {
		if p := prev.s.Phase(); p == snapshot.PhaseCapturing || p == snapshot.PhaseHashing {
			return nil, ErrBusy
		}
		// The engine is done but its finisher may not have run yet (it
		// polls every 10 ms): wait for it, so that nothing of the
		// previous snapshot runs once this one starts.
		select {
		case <-prev.done:
		case <-time.After(2 * time.Second):
			return nil, ErrFinishing
		}
	}
	if c.kept.Load() && !o.Overwrite {
		return nil, ErrKept
	}
	if o.Disk && c.Disk == nil {
		return nil, ErrNoDisk
	}
	if o.Disk && c.diskKept.Load() && !o.Overwrite {
		return nil, ErrDiskKept
	}
	if o.Disk && irq.Hz == 0 {
		return nil, ErrDiskTick
	}
	if c.M.Storage.Size == 0 || !o.Disk && !c.M.HoldsImage() {
		return nil, fmt.Errorf("%w: it needs %#x bytes after %#x (snap start disk needs only its buffer)", ErrNoStorage, c.M.StorageNeeded(), c.M.Reserved.End())
	}
	if c.Quiesce != nil {
		if err := c.Quiesce(); err != nil {
			return nil, fmt.Errorf("snap: quiescing devices: %w", err)
		}
		defer c.Resume()
	}
	var r *run
	var dmaRanges []Range
	// dma.Begin keeps DMA allocation out while the eager set is computed
	// and the snapshot starts; the guard it installs copies every DMA
	// block allocated afterwards before a device can learn its address.
	err := dma.Begin(func() (dma.Guard, error) {
		if c.DMA != nil {
			dmaRanges = c.DMA(o.Mode)
		}
		var err error
		if r, err = c.start(o, dmaRanges); err != nil {
			return nil, err
		}
		if o.Mode == DMANone || o.NoGuard {
			guardRun.Store(nil)
			return nil, nil // the negative controls have no guard
		}
		guardRun.Store(r)
		return dmaGuard, nil
	})
	if err != nil {
		return nil, err
	}
	st := r.s.Stats()
	go c.finish(r)
	return &Result{Mode: o.Mode, Share: r.share, Instant: r.s.Instant(), PauseTicks: r.pause,
		EagerPages: st.EagerPages, EntriesTouched: st.EntriesTouched, DMARanges: dmaRanges}, nil
}

// start creates the engine and the run, and starts the engine with
// interrupts off on the snapshot stack.
func (c *Controller) start(o StartOptions, dmaRanges []Range) (*run, error) {
	var disk snapshot.Disk
	storage := c.M.Storage
	if o.Disk {
		disk = c.Disk
		// A snapshot to disk takes only its buffer region of the
		// storage (snapshot.BufferLayout), whatever RAM is left: the
		// image costs no second copy of RAM. (snapshot.New says so if
		// even that does not fit.)
		if l, err := snapshot.NewLayout(4096, c.M.Captured); err == nil {
			pages := o.BufferPages
			if pages == 0 {
				pages = snapshot.DefaultBufferPages(l.NumPages, 4096)
			}
			storage.Size = min(storage.Size, alignUp(snapshot.NewBufferLayout(l, pages).Size, 4096))
		}
	}
	s, err := snapshot.New(snapshot.Config{
		Disk:        disk,
		BufferPages: o.BufferPages,
		Ranges:      c.M.Captured,
		Storage:     storage,
		DMA:         dmaRanges,
		Mem:         &engineMem{},
		Tables:      c.M.Tables,
		TLB:         &engineTLB{},
		Clock:       snapshotInstant,
		// The drain's copying and hashing timed apart (Stats, the
		// drain-copy= and drain-hash= fields of snap: complete and
		// snap status).
		DrainClock: cycles,
		// The engine refuses too (snapshot.ErrImageKept) if the storage
		// holds a complete image that was neither discarded nor is to be
		// overwritten.
		Overwrite: o.Overwrite,
		HashAlg:   snapshot.KernelHashAlg(runtime.GOARCH),
	})
	if err != nil {
		return nil, err
	}
	r := &run{s: s, mode: o.Mode, share: o.Share, done: make(chan struct{}), disk: o.Disk}
	r.tickFn = r.tickDrain
	if hz := uint64(irq.Hz); hz != 0 {
		r.tickBudget = uint64(o.Share) * c.TicksPerSecond / 100 / hz
	}
	// The fault path writes the engine's counters and the table pool's
	// index; the timer tick writes the engine's drain state and buffers
	// and the run's counters: those heap pages are copied eagerly and
	// never protected.
	owned := s.Owned()
	if o.Disk && c.DiskOwned != nil {
		owned = append(owned, c.DiskOwned()...) // the tick's disk requests write them
	}
	err = s.AddEager(append(owned,
		pageRange(uint64(uintptr(unsafe.Pointer(r))), uint64(unsafe.Sizeof(*r))),
		pageRange(uint64(uintptr(unsafe.Pointer(c.M.Tables))), uint64(unsafe.Sizeof(*c.M.Tables))),
		pageRange(uint64(uintptr(unsafe.Pointer(c.M.Tables.Pool))), uint64(unsafe.Sizeof(*c.M.Tables.Pool))),
	)...)
	if err != nil {
		return nil, err
	}
	if c.kept.Load() {
		// snap start overwrite: the storage becomes writable again. A
		// snapshot to disk uses it as its RAM buffer: the kept image is
		// discarded first (its header says so), so no reader of guest
		// RAM takes the buffer's pages for a complete image.
		if err := c.releaseStorage(); err != nil {
			return nil, err
		}
		if prev := c.cur.Load(); o.Disk && prev != nil {
			if err := prev.s.Discard(); err != nil {
				return nil, err
			}
		}
	}
	if o.Disk {
		c.diskKept.Store(false) // snap start disk overwrite
	}
	runtime.GC() // start from a quiet heap: fewer faults right after the instant
	// The copy map is cleared and the protected page tables are built now,
	// interrupts on (one page directory per GiB, 4 KiB tables where eager
	// heap objects and DMA buffers lie): Start then links them with one
	// entry per GiB instead of protecting each 2 MiB region and splitting
	// those it covers in part, with interrupts off.
	if err := s.Prepare(); err != nil {
		c.log("snap: warning: protection not prepared (%v): Start protects page by page", err)
	}
	c.cur.Store(r)
	active.Store(s)
	var startErr error
	start := func() { startErr = s.Start() }
	flags := cli()
	noteMark() // interrupts off: Mark keeps this value until the instant
	t0 := cycles()
	runOnStack(c.M.SnapStackTop, start)
	t1 := cycles()
	restoreFlags(flags)
	r.started = time.Now()
	r.t0 = t1
	r.pause = t1 - t0
	if startErr != nil {
		close(r.done)
		return nil, startErr
	}
	return r, nil
}

// MaxTickHz bounds the tick rate SetTickHz accepts.
const MaxTickHz = 5000

// SetTickHz changes the periodic tick's rate to hz interrupts per second
// (1 to MaxTickHz), also while a snapshot runs: the running snapshot's
// per-tick drain budget is recomputed so that its share stays the same.
func (c *Controller) SetTickHz(hz uint32) error {
	if hz < 1 || hz > MaxTickHz {
		return fmt.Errorf("tick: rate %d Hz out of range (1 to %d)", hz, MaxTickHz)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := StartTick(hz); err != nil {
		return err
	}
	if r := c.cur.Load(); r != nil {
		r.tickBudget = uint64(r.share) * c.TicksPerSecond / 100 / uint64(hz)
	}
	return nil
}

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

// capturing reports whether r's engine is copying or hashing.
//
//go:nosplit
func (r *run) capturing() bool {
	p := r.s.Phase()
	return p == snapshot.PhaseCapturing || p == snapshot.PhaseHashing
}

// Idle is the board's idle hook wrapped with the drain: while a snapshot is
// capturing or hashing it drains drainBudget pages per call instead of
// halting, so the drain takes all idle time. It runs on the scheduler's
// stack with no P: DrainStep allocates nothing.
func (c *Controller) Idle(next func(int64)) func(int64) {
	return func(until int64) {
		c.idleCalls++
		if r := c.cur.Load(); r != nil && r.capturing() {
			t0 := cycles()
			done, err := r.s.DrainStep(drainBudget)
			if err == nil {
				t1 := cycles()
				r.idleCalls++
				r.idleCycles += t1 - t0
				if done && r.doneCycles == 0 {
					r.doneCycles = t1
				}
				return
			}
		}
		if next != nil {
			next(until)
		}
	}
}

// finish follows a snapshot to completion: it reports progress, drains
// from a goroutine if no timer tick runs, and once the image is complete
// removes its own DMA guard and keeps the image write-protected. It
// touches only r (and the storage r's image occupies).
func (c *Controller) finish(r *run) {
	defer close(r.done)
	s := r.s
	last := s.Progress()
	lastReport := time.Now()
	stalled := 0
	for {
		time.Sleep(10 * time.Millisecond)
		p := s.Progress()
		switch p.Phase {
		case snapshot.PhaseCapturing, snapshot.PhaseHashing:
			if r.tickBudget != 0 {
				break // the timer tick drains its share, the idle hook the rest
			}
			if p.Copied == last.Copied && p.Hashed == last.Hashed {
				stalled++
			} else {
				stalled = 0
			}
			if stalled >= 5 || p.Phase == snapshot.PhaseHashing { // 50 ms without idle time: drain here
				t0 := cycles()
				for i := 0; i < 64 && r.capturing(); i++ {
					if done, _ := s.DrainStep(drainBudget); done && r.doneCycles == 0 {
						r.doneCycles = cycles()
					}
					runtime.Gosched()
				}
				r.goCycles += cycles() - t0
			}
		case snapshot.PhaseDone:
			guardRun.CompareAndSwap(r, nil)
			r.finishedFor = time.Since(r.started)
			if r.doneCycles == 0 {
				r.doneCycles = cycles()
			}
			poolAfter := c.M.Tables.Pool.Used() // before keepStorage's split, if any
			var keepErr error
			if !r.disk {
				keepErr = c.keepStorage()
			} else {
				c.diskKept.Store(true)
			}
			st := s.Stats()
			c.log("%s", lines.Complete{Pages: p.Pages, Eager: st.EagerPages, Faults: st.Faults, FaultCopies: st.FaultCopies,
				Drained: st.DrainedPages, Discards: st.DrainDiscards, PoolUsed: st.PoolUsed,
				TablesMerged: st.TablesMerged, PoolAfter: poolAfter,
				Total:     time.Duration(c.Micros(r.doneCycles-r.t0) * 1e3).Round(time.Millisecond),
				DrainTime: c.drainTime(st),
				Shares:    c.shareFigures(r)})
			if keepErr != nil {
				c.log("snap: warning: the image could not be write-protected: %v", keepErr)
			}
			if r.disk {
				c.log("%s", c.diskLine(r))
			}
			return
		default:
			guardRun.CompareAndSwap(r, nil)
			c.log("%s %v", lines.StoppedPrefix, p.Phase)
			if r.disk {
				c.log("%s", c.diskLine(r))
			}
			return
		}
		if time.Since(lastReport) >= 500*time.Millisecond {
			dt := time.Since(lastReport).Seconds()
			rate := float64(p.Copied-last.Copied) / dt
			c.log("snap: progress %s %d%% copied=%d/%d hashed=%d pages/s=%.0f %s",
				p.Phase, p.Copied*100/max(p.Pages, 1), p.Copied, p.Pages, p.Hashed, rate, c.shareFigures(r))
			last, lastReport = p, time.Now()
		}
	}
}

// shareFigures describes the CPU the drain got so far: its share of the
// time since Start (tick, idle hook, goroutine), the setting and the ticks.
func (c *Controller) shareFigures(r *run) lines.Shares {
	drain, tick, idle, gor := c.shares(r)
	return lines.Shares{DrainShare: drain, TickShare: tick, IdleShare: idle, GoroutineShare: gor,
		ShareSetting: r.share, Ticks: r.ticks, TickBusy: r.tickBusy, Hz: int(irq.Hz)}
}

// drainTime converts the engine's drain ticks (Cycles) to guest time.
func (c *Controller) drainTime(st snapshot.Stats) lines.DrainTime {
	ns := func(t uint64) time.Duration { return time.Duration(c.Micros(t) * 1e3) }
	return lines.DrainTime{Copy: ns(st.DrainCopyTicks), Hash: ns(st.DrainHashTicks), Protect: ns(st.DrainProtectTicks)}
}

// shares returns the drain's shares of the capture's time so far, in
// percent: all of it, and the timer tick's, the idle hook's and the
// fallback goroutine's parts.
func (c *Controller) shares(r *run) (drain, tick, idle, gor float64) {
	end := r.doneCycles
	if end == 0 {
		end = cycles()
	}
	el := float64(max(end-r.t0, 1))
	pct := func(v uint64) float64 { return float64(v) * 100 / el }
	return pct(r.tickCycles + r.idleCycles + r.goCycles), pct(r.tickCycles), pct(r.idleCycles), pct(r.goCycles)
}

func (c *Controller) log(format string, args ...any) {
	if c.Log != nil {
		c.Log(format, args...)
	}
}

// keepStorage write-protects the storage holding a complete image, in the
// kernel's page tables, so that nothing in the kernel can change it until
// Discard or an overwriting Start: a stray store faults and stops the
// machine with the fault report.
func (c *Controller) keepStorage() error {
	st := c.M.Storage
	_, f, err := c.M.Tables.Protect(mmu.VA(st.Base), st.Size)
	if err != nil {
		return err
	}
	f.Ignore() // covered by the InvalidateAll below, issued in every case
	TLB{}.InvalidateAll()
	c.kept.Store(true)
	return nil
}

// releaseStorage makes the storage writable again.
func (c *Controller) releaseStorage() error {
	st := c.M.Storage
	_, f, err := c.M.Tables.UnprotectRange(mmu.VA(st.Base), st.Size)
	if err != nil {
		return err
	}
	f.Ignore() // covered by the InvalidateAll below, issued in every case
	TLB{}.InvalidateAll()
	c.kept.Store(false)
	return nil
}

// CheckDisk reads the disk's header at boot: if the disk holds a complete
// image (a previous boot's snapshot to disk), it is kept as if this boot
// had taken it: snap start disk refuses (ErrDiskKept) until snap discard
// or snap start disk overwrite. It reports whether the disk holds one and
// that image's instant. The header is read into the storage region,
// outside captured RAM and unused before the first snapshot, then
// cleared there (no reader of guest RAM may take it for an image in
// RAM); call it before any snapshot.
func (c *Controller) CheckDisk() (kept bool, instant uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.M.Storage
	if c.DiskRead == nil || st.Size < 4096 || c.cur.Load() != nil {
		return false, 0, nil
	}
	if err := c.DiskRead(0, st.Base, 4096); err != nil {
		return false, 0, err
	}
	b := make([]byte, 4096)
	PhysMem{}.Read(st.Base, b)
	state, instant, ok := snapshot.HeaderState(b[:snapshot.HeaderSize])
	clear(b)
	PhysMem{}.Write(st.Base, b)
	if !ok || state != snapshot.StateComplete {
		return false, 0, nil
	}
	c.diskKept.Store(true)
	return true, instant, nil
}

// Discard drops the kept image: the storage becomes writable and its
// header says discarded (snapshot.Discard), so no reader takes it for a
// complete image and the next Start may overwrite it. For an image on the
// disk it only lets the next snapshot to disk overwrite it (the header on
// the disk is not rewritten).
func (c *Controller) Discard() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.cur.Load()
	if r != nil && r.capturing() {
		return ErrBusy
	}
	if c.diskKept.Load() && !c.kept.Load() {
		// The image stays on the disk (its header there still says
		// complete); the engine's copy of the header in the RAM buffer
		// says discarded, so the next snap start disk may overwrite it.
		// (A previous boot's image, found by CheckDisk, has no engine.)
		c.diskKept.Store(false)
		if r == nil {
			return nil
		}
		return r.s.Discard()
	}
	if !c.kept.Load() || r == nil {
		return ErrNoImage
	}
	if err := c.releaseStorage(); err != nil {
		return err
	}
	return r.s.Discard()
}

// Protected walks pagesnap's tables and counts the 4 KiB pages they map
// read-only: of the captured ranges, and of the storage. Once a snapshot
// is complete no captured page may stay protected (the engine released
// every entry it protected); the storage is all read-only while a complete
// image is kept, and writable again after Discard or an overwriting Start.
func (c *Controller) Protected() (captured, storage uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	count := func(r Range) (uint64, error) {
		var n uint64
		for pa := r.Base; pa < r.End(); pa += 4096 {
			w, err := c.M.Tables.Walk(mmu.VA(pa))
			if err != nil {
				return n, fmt.Errorf("snap: page %#x: %w", pa, err)
			}
			if !w.Writable {
				n++
			}
		}
		return n, nil
	}
	for _, r := range c.M.Captured {
		n, err := count(r)
		if err != nil {
			return 0, 0, err
		}
		captured += n
	}
	storage, err = count(c.M.Storage)
	return captured, storage, err
}

// ErrStopped means a snapshot ended without a complete image.
var ErrStopped = errors.New("snap: the snapshot stopped before its image was complete")

// ErrWaitTimeout means Wait's time ran out before the snapshot finished.
var ErrWaitTimeout = errors.New("snap: the snapshot did not finish in time")

// Wait blocks until the current (or last) snapshot has finished: nil once
// its image is complete, ErrStopped if it stopped without one, ErrNone if
// no snapshot was started, ErrWaitTimeout after timeout.
func (c *Controller) Wait(timeout time.Duration) error {
	r := c.cur.Load()
	if r == nil {
		return ErrNone
	}
	select {
	case <-r.done:
	case <-time.After(timeout):
		return ErrWaitTimeout
	}
	if p := r.s.Phase(); p != snapshot.PhaseDone {
		return fmt.Errorf("%w (phase %v)", ErrStopped, p)
	}
	return nil
}

// Kept reports whether a complete image is kept in storage.
func (c *Controller) Kept() bool { return c.kept.Load() }

// Status describes the current or last snapshot.
func (c *Controller) Status() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.cur.Load()
	if r == nil {
		return "", ErrNone
	}
	p, st := r.s.Progress(), r.s.Stats()
	return lines.Status{Phase: p.Phase.String(), Mode: r.mode.String(), Copied: p.Copied, Pages: p.Pages, Hashed: p.Hashed,
		Eager: st.EagerPages, Faults: st.Faults, FaultCopies: st.FaultCopies, Drained: st.DrainedPages,
		IdleDrains: r.idleCalls, IdleCalls: c.idleCalls, EntriesTouched: st.EntriesTouched, PauseMicros: c.Micros(r.pause),
		Kept: c.kept.Load(), DrainTime: c.drainTime(st), Shares: c.shareFigures(r)}.String(), nil
}

// Verify checks the finished image in storage: header, copy map and every
// page against the manifest (the same check the host tool runs).
func (c *Controller) Verify() (string, error) {
	r := c.cur.Load()
	if r == nil {
		return "", ErrNone
	}
	if p := r.s.Phase(); p != snapshot.PhaseDone {
		return "", fmt.Errorf("snap: image not complete (phase %s)", p)
	}
	if r.disk {
		return "", ErrOnDisk
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
	return lines.Verified{Pages: uint64(img.NumPages), Root: fmt.Sprintf("%x", root)}.String(), nil
}

// physReaderAt reads physical memory from base as an io.ReaderAt.
type physReaderAt uint64

func (p physReaderAt) ReadAt(b []byte, off int64) (int, error) {
	PhysMem{}.Read(uint64(p)+uint64(off), b)
	return len(b), nil
}

// Snapshot returns the engine of the current or last snapshot.
func (c *Controller) Snapshot() *snapshot.Snapshot {
	if r := c.cur.Load(); r != nil {
		return r.s
	}
	return nil
}

// diskLine describes a snapshot to disk: the RAM buffer, its high-water
// mark (the memory the snapshot needed for copies), the faults a full
// buffer turned away, and the disk requests.
func (c *Controller) diskLine(r *run) string {
	d := r.s.DiskStats()
	return lines.Disk{BufferPages: d.BufferPages, HighWater: d.HighWater, FullFaults: d.FullFaults,
		Writes: d.Writes, Reads: d.Reads, RAMBytes: d.RAMBytes}.String()
}
