package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/pagesnap/pagesnap/memrange"
	"github.com/pagesnap/pagesnap/mmu"
)

// PhysMem is physical memory: the captured RAM and the storage region.
// Every method used by the fault path (those of mmu.PhysMem and Copy) must
// be //go:nosplit, allocation free and lock free in every implementation.
type PhysMem interface {
	mmu.PhysMem
	// Copy copies n bytes (a multiple of 8) from src to dst, 8-byte words
	// at a time; the regions do not overlap. Fault path.
	Copy(dst, src, n uint64)
	// Read copies len(b) bytes at pa into b (pa and len(b) multiples of 8).
	// Not used by the fault path.
	Read(pa uint64, b []byte)
	// Write copies b to pa (pa and len(b) multiples of 8). Not used by the
	// fault path.
	Write(pa uint64, b []byte)
}

// PhysView is implemented by a PhysMem whose memory can be read in
// place (identity-mapped physical memory): View returns the n bytes at pa
// as a slice, so that the drain hashes a page where it lies instead of
// copying it into a buffer first. Not used by the fault path.
type PhysView interface {
	View(pa, n uint64) []byte
}

// TLB issues TLB invalidations for the page tables the engine edits (the
// mmu's Flush values are applied to it). Its methods run in the fault
// path: //go:nosplit, no allocation, no locks.
type TLB = mmu.Invalidator

// Config describes one machine's snapshot. All ranges are physical, page
// aligned and non-empty; with identity mapping they are also the virtual
// addresses the page tables map.
type Config struct {
	// PageSize is the snapshot page size; 0 means 4096. The engine protects
	// at 4 KiB granularity and only supports 4096.
	PageSize uint64
	// Ranges is the RAM to capture: sorted, disjoint.
	Ranges []Range
	// Storage receives the image (see the package doc). It must not overlap
	// Ranges and must hold Layout.Size bytes; it must be mapped writable.
	Storage Range
	// Eager lists the memory the snapshot machinery writes while a snapshot
	// runs: the fault handler's stack and writable data, the page tables
	// and the table pool, and — added with AddEager once they exist — the
	// Snapshot value (its counters) and the mmu.Pool value (its index).
	// Parts inside Ranges are copied at Start and never protected.
	Eager []Range
	// DMA lists every range a device may write (DMA bypasses the MMU); they
	// are treated like Eager.
	DMA []Range
	// Mem accesses physical memory.
	Mem PhysMem
	// Tables are the page tables through which all CPU writes to Ranges
	// go, with a table-page Pool for splits (its pages belong in Eager).
	Tables *mmu.Tables
	// TLB invalidates translations after page-table edits.
	TLB TLB
	// DrainUninterrupted promises that nothing runs on the CPU that calls
	// DrainStep, while DrainStep runs, that may write captured memory (e.g.
	// the kernel masks interrupts around each DrainStep call). The drain
	// then copies each page once, straight to its slot, instead of through
	// the scratch page (see the package doc); if the promise is broken a
	// fault interrupting the drain loops forever.
	DrainUninterrupted bool
	// Clock, if not nil, is called once by Start to record the snapshot
	// instant in the header (e.g. a TSC or CNTVCT_EL0 reading).
	Clock func() uint64
	// DrainClock, if not nil, times the drain: DrainStep reads it when it
	// begins and ends and around the pages it hashes (a free-running
	// counter, e.g. the kernel's cycle counter; its ticks are the unit of
	// Stats.DrainCopyTicks and DrainHashTicks). nil: the drain is not
	// timed. It must not allocate or take locks (the drain runs in
	// interrupts). The fault path is never timed.
	DrainClock func() uint64
	// Excluded lists the RAM the image leaves out and why (page 0, the
	// reserved region, RAM past the storage, ...): sorted, disjoint,
	// outside Ranges. The header records them with the storage, which New
	// adds itself (ReasonStorage) unless it is listed exactly so, so that a
	// reader can tell "not captured" from "not RAM".
	Excluded []Exclusion
	// Disk, if not nil, selects the block backend: the image goes to
	// this disk and Storage is only the RAM buffer region, of
	// NewBufferLayout(layout, BufferPages).Size bytes (see "Storage
	// backends" in the package doc).
	Disk Disk
	// BufferPages is the block backend's RAM buffer in pages: fault-path
	// and eager copies wait there for the drain to write them to disk. 0
	// means DefaultBufferPages. It must hold the eager set.
	BufferPages uint64
	// Overwrite lets Start overwrite a complete image found in the
	// storage. Without it Start refuses with ErrImageKept: a finished
	// image is kept until the user discards it (Discard) or asks for the
	// overwrite.
	Overwrite bool
	// HashAlg is the page and root hash algorithm: HashSHA256 (or 0) or
	// HashBLAKE2b256. The header records it and readers verify either
	// (NewHash). A kernel picks the one its CPU computes faster: SHA-256
	// where the CPU has SHA instructions Go uses, BLAKE2b-256 elsewhere.
	HashAlg uint32
}

// Errors returned by New, Start, DrainStep and Abort.
var (
	ErrConfig    = errors.New("snapshot: invalid configuration")
	ErrStorage   = errors.New("snapshot: storage region unusable")
	ErrActive    = errors.New("snapshot: a snapshot is already active")
	ErrNotActive = errors.New("snapshot: no snapshot active")
	ErrDrainBusy = errors.New("snapshot: DrainStep or Abort already running")
	// ErrImageKept: the storage holds a complete image and Config.Overwrite
	// is not set; discard the image or overwrite it explicitly.
	ErrImageKept = errors.New("snapshot: the storage holds a complete image (discard it or start with overwrite)")
	// ErrProtect is wrapped by the *ProtectError Start returns when it
	// could not write-protect captured memory (the snapshot is aborted).
	ErrProtect = errors.New("snapshot: write-protecting captured memory failed (snapshot aborted)")
)

// ProtectError is Start's error when write-protecting a range failed: it
// wraps ErrProtect and the mmu error. Start returns a pointer to a value
// held in the Snapshot (Start allocates nothing), valid until the next
// Start.
type ProtectError struct {
	Range Range // the range being protected
	code  uint8 // index into protectErrs
}

// protectErrs are the mmu errors a ProtectError can carry, by code; an
// error Start cannot name is reported as code 0 (ErrProtect alone).
var protectErrs = [...]error{nil, mmu.ErrPoolEmpty, mmu.ErrNotMapped, mmu.ErrReadOnly, mmu.ErrRange}

func (e *ProtectError) Error() string {
	if err := protectErrs[e.code]; err != nil {
		return fmt.Sprintf("%v: range %v: %v", ErrProtect, e.Range, err)
	}
	return fmt.Sprintf("%v: range %v", ErrProtect, e.Range)
}

// Unwrap returns ErrProtect and the mmu error.
func (e *ProtectError) Unwrap() []error {
	if err := protectErrs[e.code]; err != nil {
		return []error{ErrProtect, err}
	}
	return []error{ErrProtect}
}

// Phase is the engine's life-cycle phase.
type Phase uint32

// Phases.
const (
	PhaseIdle      Phase = iota // never started
	PhaseCapturing              // Start done: copying pages
	PhaseHashing                // every page copied: writing the manifest
	PhaseDone                   // image complete
	PhaseAborted                // Abort called
)

func (p Phase) String() string {
	return [...]string{"idle", "capturing", "hashing", "done", "aborted"}[min(p, 4)]
}

// Stats are the engine's counters for the current (or last) snapshot.
type Stats struct {
	EntriesTouched uint64 // page-table entries written by Start
	EagerPages     uint64 // pages copied eagerly by Start
	Faults         uint64 // write faults handled (ours)
	FaultCopies    uint64 // pages copied by the fault path
	DrainedPages   uint64 // pages copied by DrainStep
	DrainDiscards  uint64 // drain copies discarded because a fault took the page
	PoolFallbacks  uint64 // faults that copied a whole large page (pool empty)
	HashedPages    uint64 // manifest entries written
	PoolUsed       uint64 // table pages taken from the pool so far (at the end: before the merge)
	// TablesMerged: split tables joined back into large leaves when the
	// snapshot completed or was aborted (mmu.Tables.Merge); TablesLeft:
	// split tables not joinable then (the pool is returned only at 0).
	TablesMerged, TablesLeft uint64
	// DrainHashTicks: Config.DrainClock ticks DrainStep spent hashing —
	// the HashedPages page digests with their root-hash updates and
	// manifest entries, and the root hash itself. DrainCopyTicks: all its
	// other ticks — copying the DrainedPages pages to their slots, the
	// copy map, making drained runs writable, visiting the pages faults
	// and Start copied, the final unprotect and table merge, and with a
	// disk its requests. Both are 0 without a DrainClock; their sum is
	// the time spent in DrainStep (as of its last return).
	DrainCopyTicks, DrainHashTicks uint64
	// DrainProtectTicks: the part of DrainCopyTicks spent making pages
	// writable again — drained runs, and at the end all captured memory
	// with the table merge (page-table edits and TLB invalidations).
	DrainProtectTicks uint64
}

// Progress reports how far a snapshot is.
type Progress struct {
	Phase  Phase
	Pages  uint64 // pages to capture
	Copied uint64 // pages copied (eager + fault + drain)
	Hashed uint64 // pages hashed into the manifest
}

// Snapshot is the engine for one Config. Its methods other than
// HandleWriteFault must not be called concurrently with each other.
type Snapshot struct {
	cfg     Config
	layout  Layout
	ps      uint64
	mem     PhysMem
	tables  *mmu.Tables
	tlb     TLB
	ranges  []Range      // captured ranges (read by the fault path)
	first   []uint64     // page index of each range's first page
	base    uint64       // storage base
	eager   memrange.Set // Eager ∪ DMA
	protect []Range      // captured minus eager: what Start protects
	instant uint64
	view    PhysView      // mem, if it reads in place (else nil)
	clock   func() uint64 // Config.DrainClock (nil: the drain is not timed)

	phase     atomic.Uint32
	drainBusy atomic.Uint32

	// drain state (drain task only)
	cursor   uint64 // next page to drain
	runStart uint64 // first drained page not yet unprotected
	// curRange is the cursor's captured range (capture looks it up once
	// per range, not per page or step).
	curRange pageRange
	hashNext uint64
	root     hash.Hash // root digest, reset by Start
	page     hash.Hash // page digest, reset for each page
	buf      []byte    // one page read back for hashing
	sum      []byte    // HashSize bytes: one page or root hash
	hdr      []byte    // header encoding buffer (no allocation in Start or DrainStep)
	perr     ProtectError
	// prep: the tables Prepare built for the regions Start protects only
	// in part, linked by Start (mmu.Tables.Prepare, Apply); prepared says
	// they match the current eager set.
	prep     mmu.Prepared
	prepared bool
	mapReady bool // Prepare cleared the copy map (clearMap)

	entriesTouched, eagerPages, faults, faultCopies atomic.Uint64
	drained, discards, fallbacks, hashed            atomic.Uint64
	poolPeak, merged, mergeLeft                     atomic.Uint64 // set by restoreTables
	copyTicks, hashTicks, protectTicks              atomic.Uint64 // the drain's time (Config.DrainClock)
	tLast                                           uint64        // drain: the clock's last reading

	// Block backend (disk.go); disk is nil for the RAM backend.
	disk                      Disk
	buf2                      BufferLayout
	eagerCount                uint64 // eager pages inside the captured ranges
	bufHint, bufUsed, bufHigh atomic.Uint64
	bufFull                   atomic.Uint64
	diskWrites, diskReads     atomic.Uint64
	diskHdr                   bool   // drain: the header is submitted
	flushNext                 uint64 // drain: next slot to look at
	bufInflight               uint64 // drain: buffered pages being written
	reqFree                   uint64 // drain: free request tags (bit set)
	inflight                  int    // drain: requests outstanding
	unkicked                  int    // drain: requests submitted since the last Kick
	stageFree                 uint8  // drain: free staging areas (bit set)
	endStep                   uint8  // hash phase: 1 root done, 2 manifest, 3 map, 4 header submitted
	rootNext                  uint64 // hash phase: manifest entries in the root hash
	runFirst, runK, runStage  uint64 // capture: the open run, staged and not submitted
	runClosed                 bool   // capture: the open run takes no more pages
	reqKind                   []uint8
	reqArg                    []uint64 // drain: each tag's request (reqHeader...)
}

// New validates cfg and returns an engine; it touches no memory.
func New(cfg Config) (*Snapshot, error) {
	if cfg.PageSize == 0 {
		cfg.PageSize = mmu.PageSize
	}
	if cfg.PageSize != mmu.PageSize {
		return nil, fmt.Errorf("%w: the engine supports a 4096-byte page size only (got %#x)", ErrPageSize, cfg.PageSize)
	}
	if cfg.Mem == nil || cfg.Tables == nil || cfg.TLB == nil {
		return nil, fmt.Errorf("%w: Mem, Tables and TLB are required", ErrConfig)
	}
	l, err := NewLayout(cfg.PageSize, cfg.Ranges)
	if err != nil {
		return nil, err
	}
	ps := cfg.PageSize
	st := cfg.Storage
	if err := checkRanges(ps, []Range{st}, "storage"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	for _, r := range l.Ranges {
		if r.Overlaps(st) {
			return nil, fmt.Errorf("%w: storage %v overlaps captured range %v", ErrStorage, st, r)
		}
	}
	if p := cfg.Tables.Pool; p != nil {
		// The tables built so far are the mapping to restore after each
		// snapshot (a kernel seals its pool after its boot mapping).
		p.Seal()
	}
	var bl BufferLayout
	if cfg.Disk != nil {
		if cfg.BufferPages == 0 {
			cfg.BufferPages = DefaultBufferPages(l.NumPages, ps)
		}
		bl = NewBufferLayout(l, cfg.BufferPages)
		if st.Size < bl.Size {
			return nil, fmt.Errorf("%w: buffer region %v holds %#x bytes, a %d-page buffer for %d pages needs %#x",
				ErrStorage, st, st.Size, cfg.BufferPages, l.NumPages, bl.Size)
		}
		if d := cfg.Disk.Size(); d < l.Size {
			return nil, fmt.Errorf("%w: the disk holds %#x bytes, the image of %d pages needs %#x", ErrStorage, d, l.NumPages, l.Size)
		}
	} else if st.Size < l.Size {
		return nil, fmt.Errorf("%w: storage %v holds %#x bytes, the image of %d pages needs %#x",
			ErrStorage, st, st.Size, l.NumPages, l.Size)
	}
	var eager []Range
	for _, set := range []struct {
		name string
		rs   []Range
	}{{"eager", cfg.Eager}, {"DMA", cfg.DMA}} {
		for i, r := range set.rs {
			if err := checkRanges(ps, []Range{r}, set.name); err != nil {
				return nil, fmt.Errorf("%w: %s range %d: %w", ErrConfig, set.name, i, err)
			}
			if r.Overlaps(st) {
				return nil, fmt.Errorf("%w: %s range %v overlaps the storage %v", ErrStorage, set.name, r, st)
			}
			eager = append(eager, r)
		}
	}
	ex := slices.Clone(cfg.Excluded)
	if !slices.Contains(ex, Exclusion{st, ReasonStorage}) {
		// In place in the (caller-sorted) list; checkExcluded checks order.
		i := 0
		for i < len(ex) && ex[i].Base < st.Base {
			i++
		}
		ex = slices.Insert(ex, i, Exclusion{st, ReasonStorage})
	}
	if err := checkExcluded(ps, l.Ranges, ex); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	l.Excluded = ex
	alg := cfg.HashAlg
	if alg == 0 {
		alg = HashSHA256
	}
	root, err := NewHash(alg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	page, _ := NewHash(alg)
	l.HashAlg = alg
	s := &Snapshot{
		cfg: cfg, layout: l, ps: ps, mem: cfg.Mem, tables: cfg.Tables, tlb: cfg.TLB,
		ranges: l.Ranges, base: st.Base,
		root: root, page: page, clock: cfg.DrainClock,
		buf: make([]byte, ps), sum: make([]byte, 0, HashSize),
		disk: cfg.Disk, buf2: bl,
	}
	if cfg.Disk != nil {
		s.reqKind, s.reqArg = make([]uint8, DiskQueue), make([]uint64, DiskQueue)
	}
	s.view, _ = cfg.Mem.(PhysView)
	s.hdr = make([]byte, l.headerLen())
	var n uint64
	for _, r := range l.Ranges {
		s.first = append(s.first, n)
		n += r.Size / ps
	}
	s.setEager(eager)
	if err := s.checkBuffer(); err != nil {
		return nil, err
	}
	return s, nil
}

// setEager records the eager set and precomputes what Start protects, so
// that Start allocates nothing.
func (s *Snapshot) setEager(eager []Range) {
	s.prepared = false
	s.eager = memrange.Merge(eager)
	s.protect = s.protect[:0]
	s.eagerCount = 0
	for _, r := range s.ranges {
		s.protect = append(s.protect, s.eager.Subtract(r)...)
		for _, e := range s.eager {
			if lo, hi := max(r.Base, e.Base), min(r.End(), e.End()); lo < hi {
				s.eagerCount += (hi - lo) / s.ps
			}
		}
	}
}

// AddEager adds ranges to the eager set after New: for memory whose
// address is only known once the engine exists, such as the pages holding
// the Snapshot value itself (its counters are written by the fault path).
// It fails with ErrActive while a snapshot is capturing or hashing.
func (s *Snapshot) AddEager(rs ...Range) error {
	if p := s.Phase(); p == PhaseCapturing || p == PhaseHashing {
		return ErrActive
	}
	for i, r := range rs {
		if err := checkRanges(s.ps, []Range{r}, "eager"); err != nil {
			return fmt.Errorf("%w: eager range %d: %w", ErrConfig, i, err)
		}
		if r.Overlaps(s.cfg.Storage) {
			return fmt.Errorf("%w: eager range %v overlaps the storage %v", ErrStorage, r, s.cfg.Storage)
		}
	}
	old := slices.Clone(s.eager)
	s.setEager(append(slices.Clone(s.eager), rs...))
	if err := s.checkBuffer(); err != nil {
		s.setEager(old)
		return err
	}
	return nil
}

// Eager returns the merged eager set (Eager, DMA and AddEager ranges).
func (s *Snapshot) Eager() []Range { return slices.Clone(s.eager) }

// Layout returns the storage layout.
func (s *Snapshot) Layout() Layout { return s.layout }

// Instant returns the Clock value recorded by the last Start.
func (s *Snapshot) Instant() uint64 { return s.instant }

// Phase returns the current phase.
func (s *Snapshot) Phase() Phase { return Phase(s.phase.Load()) }

// Done reports whether the snapshot is complete (image verified-ready).
func (s *Snapshot) Done() bool { return s.Phase() == PhaseDone }

// Stats returns the counters.
func (s *Snapshot) Stats() Stats {
	st := Stats{
		EntriesTouched: s.entriesTouched.Load(), EagerPages: s.eagerPages.Load(),
		Faults: s.faults.Load(), FaultCopies: s.faultCopies.Load(),
		DrainedPages: s.drained.Load(), DrainDiscards: s.discards.Load(),
		PoolFallbacks: s.fallbacks.Load(), HashedPages: s.hashed.Load(),
		DrainCopyTicks: s.copyTicks.Load(), DrainHashTicks: s.hashTicks.Load(), DrainProtectTicks: s.protectTicks.Load(),
	}
	if s.tables.Pool != nil {
		st.PoolUsed = s.tables.Pool.Used()
	}
	if p := s.Phase(); p == PhaseDone || p == PhaseAborted {
		st.PoolUsed = max(st.PoolUsed, s.poolPeak.Load())
		st.TablesMerged, st.TablesLeft = s.merged.Load(), s.mergeLeft.Load()
	}
	return st
}

// Progress returns the number of pages copied and hashed so far.
func (s *Snapshot) Progress() Progress {
	return Progress{
		Phase:  s.Phase(),
		Pages:  s.layout.NumPages,
		Copied: s.eagerPages.Load() + s.faultCopies.Load() + s.drained.Load(),
		Hashed: s.hashed.Load(),
	}
}

// Prepare does before the instant what Start need not do with
// interrupts off: it marks the storage capturing and clears the copy map,
// and it builds the page tables Start will link for the 2 MiB regions it
// protects only in part (those holding eager or DMA pages), so that Start
// writes one entry per GiB instead of one per 2 MiB region and, where
// eager pages lie, a split and up to 511 more (mmu.Tables.Prepare). It is optional: without it Start protects the
// usual way. Call it right before Start, after the last AddEager, with
// interrupts on (it allocates); it fails with ErrActive while a snapshot
// is capturing or hashing, and with ErrImageKept (touching nothing) as
// Start would. The tables go back to the pool when the next
// snapshot completes or aborts (or by Merge).
func (s *Snapshot) Prepare() error {
	if p := s.Phase(); p == PhaseCapturing || p == PhaseHashing {
		return ErrActive
	}
	if !s.cfg.Overwrite {
		if st, ok := s.StoredState(); ok && st == StateComplete {
			return ErrImageKept // touching nothing, as Start would
		}
	}
	// The copy map (one word per 32 pages) is cleared now rather than at
	// the instant: nothing reads it before Start (the storage then reads
	// capturing: an incomplete image, if Start never comes).
	s.clearMap()
	s.mapReady = true
	rs := make([]mmu.Region, len(s.protect))
	for i, r := range s.protect {
		rs[i] = mmu.Region{VA: mmu.VA(r.Base), Size: r.Size}
	}
	s.prepared = false
	if err := s.tables.Prepare(&s.prep, rs); err != nil {
		s.prep.Reset()
		return err
	}
	s.prepared = true
	return nil
}

// Start takes the snapshot: it marks the header capturing, clears the copy
// map, copies the eager set (Eager and DMA pages inside Ranges),
// write-protects every other captured page and invalidates the TLB. The
// snapshot instant is the moment Start runs. The caller must have stopped
// everything else (one CPU, interrupts off, DMA quiescent or covered by DMA
// ranges). Start fails with ErrActive while a snapshot is capturing or
// hashing, with ErrImageKept (touching nothing) if the storage holds a
// complete image and Config.Overwrite is not set, and with a *ProtectError
// if write protection failed (the snapshot is then aborted).
//
// Start allocates nothing and stores no heap pointer: it runs with
// interrupts off on the kernel's snapshot stack. Every error it returns is
// a preallocated value.
func (s *Snapshot) Start() error {
	if p := s.phase.Load(); p == uint32(PhaseCapturing) || p == uint32(PhaseHashing) {
		return ErrActive
	}
	if s.disk != nil && s.eagerCount+InterruptSlots > s.buf2.Slots {
		return ErrBufferSmall
	}
	if !s.cfg.Overwrite {
		if st, ok := s.StoredState(); ok && st == StateComplete {
			return ErrImageKept
		}
	}
	for {
		p := s.phase.Load()
		if p == uint32(PhaseCapturing) || p == uint32(PhaseHashing) {
			return ErrActive
		}
		if s.phase.CompareAndSwap(p, uint32(PhaseCapturing)) {
			break
		}
	}
	if s.drainBusy.Load() != 0 {
		s.phase.Store(uint32(PhaseAborted))
		return ErrDrainBusy
	}
	l := &s.layout
	if !s.mapReady {
		s.clearMap()
	}
	s.mapReady = false
	s.entriesTouched.Store(0)
	s.eagerPages.Store(0)
	s.faults.Store(0)
	s.faultCopies.Store(0)
	s.drained.Store(0)
	s.discards.Store(0)
	s.fallbacks.Store(0)
	s.hashed.Store(0)
	s.poolPeak.Store(0)
	s.merged.Store(0)
	s.mergeLeft.Store(0)
	s.copyTicks.Store(0)
	s.hashTicks.Store(0)
	s.protectTicks.Store(0)
	s.cursor, s.runStart, s.hashNext = 0, 0, 0
	s.curRange = pageRange{}
	s.root.Reset()
	if s.disk != nil {
		s.resetBuffer()
	}

	// The snapshot instant. From here until every eager page is copied,
	// Start writes nothing in captured memory (only storage, and locals on
	// the caller's stack, which the kernel keeps outside captured RAM): a
	// write there would reach the image with content newer than the
	// instant. Counters and the instant are stored afterwards, and Start
	// allocates nothing (the protect list is precomputed).
	var instant uint64
	if s.cfg.Clock != nil {
		instant = s.cfg.Clock()
	}
	var eagerPages uint64
	for _, r := range s.ranges {
		for _, e := range s.eager {
			lo, hi := max(r.Base, e.Base), min(r.End(), e.End())
			for pa := lo; pa < hi; pa += s.ps {
				i, _ := s.pageIndex(pa)
				if s.disk != nil {
					// Slot eagerPages: the directory was just
					// cleared and the eager set fits (checked
					// above). No bufClaim: its counters are in the
					// Snapshot value, captured memory, written only
					// after the loop.
					s.bufCopy(eagerPages, i, pa)
				} else {
					s.mem.Copy(s.slot(i), pa, s.ps)
				}
				s.setState(i, pageCopied)
				eagerPages++
			}
		}
	}
	// Protect the rest, at the highest level that covers it. Until a page
	// is protected nothing but this loop runs, so it still holds the
	// content of the instant; page tables are outside captured memory or
	// eager.
	var touched int
	var perr error
	var bad Range
	whole := false
	if s.prepared {
		// One entry per GiB Prepare built a page directory for; if that
		// protected everything, Protect has nothing to do (else it finds
		// the prepared parts protected already).
		touched, whole = s.tables.Apply(&s.prep)
		s.prepared = false
	}
	for _, p := range s.protect {
		if whole {
			break
		}
		n, f, err := s.tables.Protect(mmu.VA(p.Base), p.Size)
		f.Ignore() // covered by the InvalidateAll below, issued in every case
		touched += n
		if err != nil {
			perr, bad = err, p
			break
		}
	}
	s.tlb.InvalidateAll()
	s.instant = instant
	s.eagerPages.Store(eagerPages)
	if s.disk != nil {
		s.bufUsed.Store(eagerPages)
		s.bufHigh.Store(eagerPages)
		s.bufHint.Store(eagerPages)
	}
	s.entriesTouched.Store(uint64(touched))
	s.mem.Write(s.base, l.encodeHeaderTo(s.hdr, StateCapturing, s.instant))
	if perr != nil {
		s.abort()
		s.perr = ProtectError{Range: bad}
		for c, e := range protectErrs {
			if e != nil && e == perr {
				s.perr.code = uint8(c)
			}
		}
		return &s.perr
	}
	return nil
}

// clearMap marks the storage capturing and clears the copy map. The
// header first: one atomic store turns whatever image the storage held
// into "capturing" before any of its map or slots is rewritten, so no
// reader ever sees "complete" over a half-rewritten image. Then the full
// new header (instant still 0), then the copy map.
func (s *Snapshot) clearMap() {
	l := &s.layout
	w := s.mem.Load64(s.base + hdrNumRanges)
	s.mem.Store64(s.base+hdrNumRanges, w&0xffffffff|uint64(StateCapturing)<<32)
	s.mem.Write(s.base, l.encodeHeaderTo(s.hdr, StateCapturing, 0))
	for off := uint64(0); off < l.MapSize; off += 8 {
		s.mem.Store64(s.base+l.MapOff+off, 0)
	}
}

// StoredState reads the state of the image the storage holds now: ok is
// false if the storage does not start with a header of this format
// version. It allocates nothing (Start uses it).
func (s *Snapshot) StoredState() (st State, ok bool) {
	if s.mem.Load64(s.base+hdrMagic) != magicWord ||
		uint32(s.mem.Load64(s.base+hdrVersion)) != Version {
		return 0, false
	}
	return State(s.mem.Load64(s.base+hdrNumRanges) >> 32), true
}

// magicWord is Magic as the little-endian word at the start of a header.
var magicWord = binary.LittleEndian.Uint64([]byte(Magic))

// Discard releases the image in the storage: its header state becomes
// StateDiscarded, so a later Start may overwrite it without
// Config.Overwrite. It fails with ErrActive while a snapshot is capturing
// or hashing; a storage that holds no image is left as it is.
func (s *Snapshot) Discard() error {
	if p := s.Phase(); p == PhaseCapturing || p == PhaseHashing {
		return ErrActive
	}
	if _, ok := s.StoredState(); ok {
		w := s.mem.Load64(s.base + hdrNumRanges)
		s.mem.Store64(s.base+hdrNumRanges, w&0xffffffff|uint64(StateDiscarded)<<32)
	}
	return nil
}

// pageIndex returns the index of the captured page containing addr.
//
//go:nosplit
func (s *Snapshot) pageIndex(addr uint64) (uint64, bool) {
	for k := range s.ranges {
		r := &s.ranges[k]
		if addr >= r.Base && addr-r.Base < r.Size {
			return s.first[k] + (addr-r.Base)/s.ps, true
		}
	}
	return 0, false
}

// pageAddr returns the physical address of page i.
func (s *Snapshot) pageAddr(i uint64) uint64 { return s.layout.PageAddr(i) }

// slot returns the storage address of page i's data.
//
//go:nosplit
func (s *Snapshot) slot(i uint64) uint64 { return s.base + s.layout.DataOff + i*s.ps }

// mapWord returns the storage address of page i's copy-map word.
//
//go:nosplit
func (s *Snapshot) mapWord(i uint64) uint64 { return s.base + s.layout.MapOff + i/32*8 }

// state returns page i's state.
//
//go:nosplit
func (s *Snapshot) state(i uint64) uint64 { return pageState(s.mem.Load64(s.mapWord(i)), uint(i%32)) }

// casState moves page i from state old to new; it fails only if the page's
// state is not old (other pages' bits in the word may change meanwhile).
//
//go:nosplit
func (s *Snapshot) casState(i uint64, old, new uint64) bool {
	wa, b := s.mapWord(i), uint(i%32)
	for {
		w := s.mem.Load64(wa)
		if pageState(w, b) != old {
			return false
		}
		if s.mem.CAS64(wa, w, withState(w, b, new)) {
			return true
		}
	}
}

// setState sets page i's state unconditionally.
//
//go:nosplit
func (s *Snapshot) setState(i uint64, st uint64) {
	wa, b := s.mapWord(i), uint(i%32)
	for {
		w := s.mem.Load64(wa)
		if s.mem.CAS64(wa, w, withState(w, b, st)) {
			return
		}
	}
}

// HandleWriteFault is the write-protection fault path: addr is the faulting
// (identity-mapped) address. It returns true if the fault was the engine's
// (a captured page): the faulting store must then be retried; false if
// the kernel must treat it as a genuine fault. See the package doc for the
// per-page protocol and why this function is nosplit, allocation free,
// write-barrier free and lock free.
//
//go:nosplit
func (s *Snapshot) HandleWriteFault(addr uint64) bool {
	handled, _ := s.handleFault(addr, s.buf2.Slots-InterruptSlots)
	return handled
}

// handleFault is HandleWriteFault; wait is true when it returned without
// making the page writable (another CPU copies it, or the block backend's
// buffer is full): the store must wait and retry. With the block backend
// a copy may fill the buffer up to limit slots.
//
//go:nosplit
func (s *Snapshot) handleFault(addr, limit uint64) (handled, wait bool) {
	p := Phase(s.phase.Load())
	if p == PhaseIdle {
		return false, false
	}
	i, ok := s.pageIndex(addr)
	if !ok {
		return false, false
	}
	s.faults.Add(1)
	pa := addr &^ (s.ps - 1)
	if p == PhaseDone || p == PhaseAborted {
		// Left protected by a racing push-down (see package mmu): writable now.
		return s.unprotect(pa, limit)
	}
	wa, b := s.mapWord(i), uint(i%32)
	for {
		w := s.mem.Load64(wa)
		switch pageState(w, b) {
		case pageUncopied:
			if s.disk != nil {
				copied, full := s.faultCopyToBuffer(i, pa, limit)
				if full {
					return true, true
				}
				if !copied {
					continue
				}
				return s.unprotect(pa, limit)
			}
			// casState's step, on the word just read (other pages' bits
			// may have changed: then read it again).
			if !s.mem.CAS64(wa, w, withState(w, b, pageFaultCopy)) {
				continue
			}
			// The page is still protected: its content is that of Start.
			s.mem.Copy(s.slot(i), pa, s.ps)
			s.finishFaultCopy(i)
			return s.unprotect(pa, limit)
		case pageFaultCopy:
			// Another CPU's handler is copying (handlers never nest on
			// one CPU): let the store retry and fault again.
			return true, true
		default: // pageDrainWrite, pageCopied: slot is (being) filled from a clean copy
			return s.unprotect(pa, limit)
		}
	}
}

// finishFaultCopy ends a fault-path copy of page i. If Abort ran meanwhile
// (possible only with several CPUs), Abort may have made the page writable
// during the copy: the copy is then marked uncopied, not trusted. Abort
// stores the phase before unprotecting, so a copy that saw a post-Abort
// store also sees PhaseAborted here.
//
//go:nosplit
func (s *Snapshot) finishFaultCopy(i uint64) {
	if Phase(s.phase.Load()) == PhaseAborted {
		s.setState(i, pageUncopied)
		return
	}
	s.setState(i, pageCopied)
	s.faultCopies.Add(1)
}

// unprotect makes the page at pa writable, falling back to copying its
// whole large page when the table pool is empty; wait is true if the page
// was left protected for now (see handleFault; limit is its buffer limit).
//
//go:nosplit
func (s *Snapshot) unprotect(pa, limit uint64) (ok, wait bool) {
	f, err := s.tables.Unprotect(mmu.VA(pa))
	if err == mmu.ErrPoolEmpty {
		return s.fallback(pa, limit)
	}
	if err != nil {
		return false, false
	}
	f.Apply(s.tlb)
	return true, false
}

// fallback copies every uncopied page of the read-only large page mapping
// pa, then makes that large page writable without splitting it. All pages
// of a read-only large page are captured, non-eager pages (mmu.Protect only
// clears write bits of entries wholly inside the protected ranges).
//
//go:nosplit
func (s *Snapshot) fallback(pa, limit uint64) (ok, wait bool) {
	size, err := s.tables.LeafSize(mmu.VA(pa))
	if err != nil {
		return false, false
	}
	s.fallbacks.Add(1)
	base := pa &^ (size - 1)
	for a := base; a < base+size; a += s.ps {
		i, ok := s.pageIndex(a)
		if !ok {
			return false, false
		}
		for {
			st := s.state(i)
			if st == pageFaultCopy {
				return true, true // another CPU is copying: retry later
			}
			if st != pageUncopied {
				break
			}
			if s.disk != nil {
				j, got := s.bufClaim(limit)
				if !got {
					s.bufFull.Add(1)
					return true, true // buffer full: the store retries once the drain wrote some out
				}
				if !s.casState(i, pageUncopied, pageFaultCopy) {
					s.bufRelease(j)
					continue
				}
				s.bufCopy(j, i, a)
				s.finishFaultCopy(i)
				break
			}
			if s.casState(i, pageUncopied, pageFaultCopy) {
				s.mem.Copy(s.slot(i), a, s.ps)
				s.finishFaultCopy(i)
				break
			}
		}
	}
	f, err := s.tables.UnprotectLeaf(mmu.VA(pa))
	if err != nil {
		return false, false
	}
	f.Apply(s.tlb)
	return true, false
}

// drainChunk is the granule at which the drain unprotects copied runs.
const drainChunk = 2 << 20

// DrainStep does up to budget pages of work (a page copied and hashed as
// it is copied, or a page copied earlier hashed; with the block backend
// requests submitted and reaped too, never waited for) and
// reports whether the snapshot is complete. Call it from the idle task
// until it returns true. It returns ErrNotActive when no snapshot is
// running and ErrDrainBusy if called concurrently with itself or Abort.
// It allocates nothing in either phase (buffers and digests come from New)
// and takes no locks, so a kernel may call it from its idle hook, where the
// scheduler has no P, or from a timer interrupt (see "Drain share" in the
// package doc); it is not nosplit.
func (s *Snapshot) DrainStep(budget int) (bool, error) {
	return s.drainStep(budget, s.cfg.DrainUninterrupted)
}

// DrainStepUninterrupted is DrainStep with the promise of
// Config.DrainUninterrupted made for this call only: nothing that may
// write captured memory runs on this CPU until it returns (its stack
// included). A kernel's timer tick, which drains with interrupts off on a
// stack outside captured RAM, can make it while its idle hook, which
// cannot, calls DrainStep: each page is then copied once, straight to its
// slot, instead of twice through the scratch page.
func (s *Snapshot) DrainStepUninterrupted(budget int) (bool, error) {
	return s.drainStep(budget, true)
}

func (s *Snapshot) drainStep(budget int, direct bool) (bool, error) {
	if !s.drainBusy.CompareAndSwap(0, 1) {
		return false, ErrDrainBusy
	}
	defer s.drainBusy.Store(0)
	switch s.Phase() {
	case PhaseDone:
		return true, nil
	case PhaseCapturing, PhaseHashing:
	default:
		return false, ErrNotActive
	}
	s.timeBegin()
	defer s.timeEnd()
	if s.disk != nil {
		if err := s.diskWork(budget); err != nil {
			s.abort()
			return false, fmt.Errorf("snapshot: disk: %w", err)
		}
		return s.Phase() == PhaseDone, nil
	}
	budget, ended := s.capture(budget, direct)
	if ended || budget > 0 && s.Phase() == PhaseCapturing {
		return false, nil
	}
	return s.hash(budget), nil
}

// capture is the drain's first phase: it visits the captured pages in
// order, the pages of one copy-map word at a time (visit), copying and
// hashing each one no fault has copied (up to budget pages), and makes
// finished runs writable. It returns the budget left and whether this
// call ended the phase (every page visited: hashing starts).
func (s *Snapshot) capture(budget int, direct bool) (int, bool) {
	l := &s.layout
	for budget > 0 && s.Phase() == PhaseCapturing {
		if s.cursor == l.NumPages {
			s.endCapture()
			return budget, true
		}
		i := s.cursor
		r := &s.curRange
		if i >= r.end || i < r.first {
			*r = s.rangeAt(i)
		}
		// A run ends at a 2 MiB boundary and at the end of a range, so
		// the pages of [runStart, cursor) are always contiguous; a
		// visit ends there too, and at the end of i's copy-map word.
		pa := r.base + (i-r.first)*s.ps
		runEnd := min(r.end, i+(drainChunk-pa%drainChunk)/s.ps)
		budget = s.visit(i, min(runEnd, i/32*32+32), pa, budget, direct)
		if s.cursor == runEnd {
			s.flushRun()
		}
	}
	return budget, false
}

// pageRange is a captured range as page indexes [first, end) from base.
type pageRange struct{ first, end, base uint64 }

// rangeAt returns the captured range holding page i.
func (s *Snapshot) rangeAt(i uint64) pageRange {
	for k, r := range s.ranges {
		n := r.Size / s.ps
		if i < s.first[k]+n {
			return pageRange{s.first[k], s.first[k] + n, r.Base}
		}
	}
	return pageRange{}
}

// visit drains pages from i (at pa) up to end, all in one copy-map word,
// while budget lasts: a page copied or hashed costs one unit. It reads
// the word once, copies the Uncopied pages it takes and then hashes the
// copied pages in order from hashNext (hash while hot: a copied page's
// slot is final, so it is hashed now instead of read back after the
// capture; a page a fault on another CPU is still copying stops this,
// and the hash phase goes on from hashNext). It moves the cursor past
// the pages it visited and returns the budget left.
//
// The copy follows the per-page protocol (see the package doc). direct
// (nothing on this CPU writes captured memory meanwhile): one CAS of the
// word claims all the pages as FaultCopy, each is copied once, straight
// to its slot, and one more CAS marks them all Copied; faults on other
// CPUs see FaultCopy and retry until then. Else each page goes through
// the scratch page (copyViaScratch), claimed after its copy.
func (s *Snapshot) visit(i, end, pa uint64, budget int, direct bool) int {
	wa := s.mapWord(i)
	w := s.mem.Load64(wa)
	var claim uint64 // the Uncopied pages taken: bit b for the word's page b
	var stop, hashEnd uint64
	left := budget
	for {
		// The pages [i, stop) are visited, the Uncopied ones among
		// them copied, and [i, hashEnd) hashed.
		claim, left, stop, hashEnd = 0, budget, i, i
		hashing := s.hashNext == i
		for ; stop < end && left > 0; stop++ {
			b := uint(stop % 32)
			switch pageState(w, b) {
			case pageUncopied:
				claim |= 1 << b
				left--
			case pageCopied:
				if hashing {
					left--
				}
			default: // a fault on another CPU is copying it
				hashing = false
			}
			if hashing {
				hashEnd = stop + 1
			}
		}
		if !direct || claim == 0 || s.mem.CAS64(wa, w, w|claim<<32) {
			break
		}
		// A fault took a page or changed another page's bits: again.
		w = s.mem.Load64(wa)
	}
	word := i &^ 31 // page index of the word's bit 0
	if direct && claim != 0 {
		// The pages are FaultCopy, still protected: their content is
		// that of Start.
		for c := claim; c != 0; c &= c - 1 {
			j := word + uint64(bits.TrailingZeros64(c))
			s.mem.Copy(s.slot(j), pa+(j-i)*s.ps, s.ps)
		}
		// Copied: one CAS from the word as claimed, if nothing else
		// changed in it (only our pages' bits change here).
		w |= claim << 32
		for !s.mem.CAS64(wa, w, w&^(claim<<32)|claim) {
			w = s.mem.Load64(wa)
		}
		w = w&^(claim<<32) | claim
		s.drained.Add(uint64(bits.OnesCount64(claim)))
	} else if claim != 0 {
		for c := claim; c != 0; c &= c - 1 {
			j := word + uint64(bits.TrailingZeros64(c))
			if s.copyViaScratch(j, pa+(j-i)*s.ps) {
				s.drained.Add(1)
			} else {
				s.discards.Add(1)
			}
		}
		// A discarded page is FaultCopy or, if its fault finished,
		// Copied.
		w = s.mem.Load64(wa)
	}
	if hashEnd > i {
		t := s.hashBegin()
		for j := i; j < hashEnd && pageState(w, uint(j%32)) == pageCopied; j++ {
			s.hashPage(j)
			s.hashNext++
		}
		s.hashEnd(t)
	}
	s.cursor = stop
	return left
}

// copyViaScratch is the drain's copy when a write (and its fault) may
// interrupt it: the page goes to the scratch page first and is kept only
// if no fault took it meanwhile. It reports whether it copied the page.
func (s *Snapshot) copyViaScratch(i, pa uint64) bool {
	scratch := s.base + s.layout.ScratchOff
	s.mem.Copy(scratch, pa, s.ps)
	if !s.casState(i, pageUncopied, pageDrainWrite) {
		return false
	}
	// No fault took the page during the scratch copy, so it was protected
	// throughout: scratch holds its Start content.
	s.mem.Copy(s.slot(i), scratch, s.ps)
	s.setState(i, pageCopied)
	return true
}

// endCapture ends the capture phase: every page was visited, but a fault
// on another CPU may still be copying one (FaultCopy); the hashing phase
// waits for it.
func (s *Snapshot) endCapture() {
	s.flushRun()
	s.phase.Store(uint32(PhaseHashing))
}

// rootHeader starts the root hash: the header, its state zeroed. It goes
// in before page 0's hash, whenever that is hashed.
func (s *Snapshot) rootHeader() {
	h := s.layout.encodeHeaderTo(s.hdr, StateComplete, s.instant)
	clear(h[hdrState : hdrState+4])
	s.root.Write(h)
}

// hash is the drain's second phase: it hashes the copied pages capture
// left unhashed (none unless a fault on another CPU held one up) in order
// into the manifest and the root hash (up to budget pages), then
// completes the snapshot. It reports whether the snapshot is complete.
func (s *Snapshot) hash(budget int) bool {
	for budget > 0 && s.Phase() == PhaseHashing {
		if s.hashNext == s.layout.NumPages {
			s.complete()
			return true
		}
		i := s.hashNext
		if s.state(i) != pageCopied {
			// A fault on another CPU still copying it (host only).
			return false
		}
		budget--
		t := s.hashBegin()
		s.hashPage(i)
		s.hashEnd(t)
		s.hashNext++
	}
	return s.Phase() == PhaseDone
}

// hashPage writes page i's digest to the manifest and into the root hash
// (page 0 first starts it with the header), with the reused digest and
// buffer: no allocation. Its callers time it (hashBegin, hashEnd).
func (s *Snapshot) hashPage(i uint64) {
	if i == 0 {
		s.rootHeader()
	}
	sum := s.hashBytes(s.pageBytes(s.slot(i)))
	s.mem.Write(s.base+s.layout.ManifestOff+i*HashSize, sum)
}

// The drain's clock (Config.DrainClock): a step reads it when it begins
// (timeBegin) and ends (timeEnd) and around each hashing (hashBegin,
// hashEnd); the ticks between two readings go to hashTicks if they
// bracket hashing, else to copyTicks. Two readings per hashed page and
// two per step, no allocation; without a clock each is one nil check.

// timeBegin starts timing a drain step.
func (s *Snapshot) timeBegin() {
	if s.clock != nil {
		s.tLast = s.clock()
	}
}

// timeEnd ends a drain step: the ticks since the last reading were not
// hashing.
func (s *Snapshot) timeEnd() {
	if s.clock != nil {
		t := s.clock()
		s.copyTicks.Add(t - s.tLast)
		s.tLast = t
	}
}

// hashBegin starts timing hashing and returns the reading (the ticks
// before it were not hashing).
func (s *Snapshot) hashBegin() uint64 {
	if s.clock == nil {
		return 0
	}
	t := s.clock()
	s.copyTicks.Add(t - s.tLast)
	return t
}

// protectBegin starts timing the making of pages writable (a part of
// the copy ticks: the chain of readings is left alone).
func (s *Snapshot) protectBegin() uint64 {
	if s.clock == nil {
		return 0
	}
	return s.clock()
}

// protectEnd ends the making of pages writable begun at reading t0.
func (s *Snapshot) protectEnd(t0 uint64) {
	if s.clock != nil {
		s.protectTicks.Add(s.clock() - t0)
	}
}

// hashEnd ends hashing begun at reading t0.
func (s *Snapshot) hashEnd(t0 uint64) {
	if s.clock != nil {
		s.tLast = s.clock()
		s.hashTicks.Add(s.tLast - t0)
	}
}

// pageBytes returns the page at pa: in place if the memory allows it
// (PhysView), else copied into s.buf.
func (s *Snapshot) pageBytes(pa uint64) []byte {
	if s.view != nil {
		return s.view.View(pa, s.ps)
	}
	s.mem.Read(pa, s.buf)
	return s.buf
}

// hashBytes hashes page b into the root hash and returns its digest (in
// s.sum): the hash of the next page in order.
func (s *Snapshot) hashBytes(b []byte) []byte {
	s.page.Reset()
	s.page.Write(b)
	sum := s.page.Sum(s.sum[:0])
	s.root.Write(sum)
	s.hashed.Add(1)
	return sum
}

// complete finishes a snapshot whose every page is copied and hashed: it
// makes all captured memory writable, including pages a racing push-down
// or an empty pool left protected, writes the root hash and the complete
// header.
func (s *Snapshot) complete() {
	l := &s.layout
	p := s.protectBegin()
	s.unprotectAll()
	s.protectEnd(p)
	t := s.hashBegin()
	s.mem.Write(s.base+l.ManifestOff+l.NumPages*HashSize, s.root.Sum(s.sum[:0]))
	s.hashEnd(t)
	s.mem.Write(s.base, l.encodeHeaderTo(s.hdr, StateComplete, s.instant))
	s.phase.Store(uint32(PhaseDone))
}

// unprotectAll makes all captured memory writable, then restores the
// large mappings.
func (s *Snapshot) unprotectAll() {
	for _, r := range s.ranges {
		_, f, _ := s.tables.UnprotectRange(mmu.VA(r.Base), r.Size)
		f.Ignore() // covered by the InvalidateAll below
	}
	s.tlb.InvalidateAll()
	s.restoreTables()
}

// restoreTables joins the tables this snapshot's splits made back into
// the large leaves they replaced and returns them to the pool
// (mmu.Tables.Merge; amd64 only, see there): after a snapshot the
// program runs on the mappings it had before, and the next snapshot
// starts with the whole pool. Nothing is protected any more, so no fault
// splits meanwhile.
func (s *Snapshot) restoreTables() {
	if s.tables.Pool != nil {
		s.poolPeak.Store(s.tables.Pool.Used())
	}
	// Not quiet: the program (other CPUs, interrupts) runs on, so arm64
	// tables, which need break-before-make, stay split (mmu.Tables.Merge).
	merged, left := s.tables.Merge(s.tlb, false, &s.prep)
	s.prep.Reset()
	s.merged.Store(uint64(merged))
	s.mergeLeft.Store(uint64(left))
}

// kept reports whether a page in state st has its Start content kept:
// copied, or (block backend) staged and being written from the staging
// area. Such a page may be made writable.
func kept(st uint64) bool { return st == pageCopied || st == pageDrainWrite }

// flushRun makes the pages drained since the last flush, [runStart,
// cursor), writable, a maximal sub-run of kept pages at a time (a page
// still being copied by a fault on another CPU is left to that fault).
func (s *Snapshot) flushRun() {
	defer s.protectEnd(s.protectBegin())
	if s.runStart == s.cursor {
		return
	}
	// The run's pages are contiguous (capture ends a run at each range's
	// end), from base.
	base := s.pageAddr(s.runStart)
	i := s.runStart
	for i < s.cursor {
		i = s.nextKept(i, s.cursor)
		j := s.nextNotKept(i, s.cursor)
		if j > i {
			// An error (empty pool) leaves pages protected: complete's
			// UnprotectRange retries them.
			_, f, _ := s.tables.UnprotectRange(mmu.VA(base+(i-s.runStart)*s.ps), (j-i)*s.ps)
			f.Apply(s.tlb)
		}
		i = j
	}
	s.runStart = s.cursor
}

// nextKept returns the first page from i (before end) whose state is kept,
// or end.
func (s *Snapshot) nextKept(i, end uint64) uint64 {
	for i < end && !kept(s.state(i)) {
		i++
	}
	return i
}

// nextNotKept returns the first page from i (before end) whose state is not
// kept, or end: 32 pages a copy-map word when their C bits are all set (a
// kept state: pageCopied or pageDrainWrite).
func (s *Snapshot) nextNotKept(i, end uint64) uint64 {
	for i < end {
		if i%32 == 0 && end-i >= 32 && s.mem.Load64(s.mapWord(i))&0xffffffff == 0xffffffff {
			i += 32
			continue
		}
		if !kept(s.state(i)) {
			return i
		}
		i++
	}
	return end
}

// Abort stops the current snapshot: it makes all captured memory writable
// and marks the header aborted. Pages copied before Abort keep valid data.
// Call it from the task that calls DrainStep.
func (s *Snapshot) Abort() error {
	if !s.drainBusy.CompareAndSwap(0, 1) {
		return ErrDrainBusy
	}
	defer s.drainBusy.Store(0)
	p := s.Phase()
	if p != PhaseCapturing && p != PhaseHashing {
		return ErrNotActive
	}
	s.abort()
	return nil
}

func (s *Snapshot) abort() {
	s.phase.Store(uint32(PhaseAborted))
	s.unprotectAll()
	s.mem.Write(s.base, s.layout.encodeHeaderTo(s.hdr, StateAborted, s.instant))
	s.diskAbort()
}
