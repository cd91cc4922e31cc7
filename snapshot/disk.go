package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Disk is a block device that receives the image (the block backend, see
// "Storage backends" in the package doc). The image on the disk has the
// format of the RAM storage, from byte 0.
//
// Requests are asynchronous: the drain submits a few, kicks the device
// and returns; a later DrainStep reaps their completions, so that no
// drain step waits for a round trip to the device. Only the drain calls
// these methods (DrainStep and Abort), never the fault path or Start. A
// kernel may call DrainStep from a timer interrupt, so they must allocate
// nothing, take no lock an interrupted goroutine may hold and never wait
// for the device (Abort excepted, which reaps until every request is
// done). They transfer from physical memory: the buffer region
// (Config.Storage) or the drain's staging area, which the engine leaves
// untouched until the request completes.
type Disk interface {
	// Size returns the disk's size in bytes.
	Size() uint64
	// Submit posts a request writing n bytes (a multiple of the page
	// size) from physical address src to the disk at byte offset off,
	// tagged tag (0 <= tag < DiskQueue; a tag is reused only once Reap
	// returned it), and returns without waiting. The device may not
	// see it before Kick.
	Submit(tag int, off, src, n uint64) error
	// Kick tells the device about the requests submitted since the last
	// Kick.
	Kick()
	// Reap returns the tag of one completed request, or ok false when
	// none has completed yet, without waiting; err is that request's
	// error, or (ok false) the device's failure, e.g. no completion
	// within the driver's timeout.
	Reap() (tag int, ok bool, err error)
}

// Buffer sizes of the block backend.
const (
	// MaxDefaultBuffer is the largest default RAM buffer (64 MiB).
	MaxDefaultBuffer = 64 << 20
	// InterruptSlots buffer slots are kept for PrepareWrite (the
	// interrupt path, which cannot wait for the drain): write faults
	// leave them free. The timer tick prepares at most two pages (the
	// interrupted g, a preemption frame) before it drains, and its drain
	// reaps written pages and submits buffered ones first, so the
	// reserve is not used up.
	InterruptSlots = 8
	// MinBufferPages is the smallest buffer: the eager set must fit too.
	MinBufferPages = InterruptSlots + 4
	// DiskQueue is the most requests the drain has outstanding at once
	// (tags 0 to DiskQueue-1).
	DiskQueue = 32
	// DiskBatch is the most pages of one drained run (one request).
	DiskBatch = 32
	// DiskStages is the number of staging areas (DiskBatch pages each):
	// the drained runs in flight at once.
	DiskStages = 4
)

// DefaultBufferPages returns the default RAM buffer for capturing
// numPages pages of pageSize bytes: min(64 MiB, 5 % of the captured RAM),
// at least MinBufferPages.
func DefaultBufferPages(numPages, pageSize uint64) uint64 {
	return max(min(MaxDefaultBuffer/pageSize, numPages/20), MinBufferPages)
}

// ErrBufferSmall is returned when the block backend's RAM buffer cannot
// hold the eager set, which Start copies with interrupts off (no disk
// I/O): New and AddEager say by how much, Start refuses with it as is.
var ErrBufferSmall = errors.New("snapshot: the RAM buffer cannot hold the eager set")

// BufferLayout is the block backend's RAM region (Config.Storage): the
// image's first DataOff bytes (header, copy map, scratch page) at the
// image's own offsets, then the slot directory (one uint64 per slot), the
// manifest (page hashes and root, filled as pages are written: see
// "Storage backends"), the drain's staging areas and the slots.
type BufferLayout struct {
	Slots        uint64 // buffer slots (pages)
	DirOff       uint64 // slot directory
	ManifestOff  uint64 // the manifest, as on disk at Layout.ManifestOff
	ManifestSize uint64 // bytes: (NumPages+1) hashes, whole pages
	StageOff     uint64 // DiskStages areas of DiskBatch pages: drained runs being written
	SlotsOff     uint64 // slot j at SlotsOff + j*PageSize
	Size         uint64 // bytes of RAM the block backend needs
}

// NewBufferLayout returns the RAM region layout of the block backend for
// image layout l and a buffer of slots pages.
func NewBufferLayout(l Layout, slots uint64) BufferLayout {
	b := BufferLayout{Slots: slots, DirOff: l.DataOff}
	b.ManifestOff = b.DirOff + roundUp(8*slots, l.PageSize)
	b.ManifestSize = l.Size - l.ManifestOff
	b.StageOff = b.ManifestOff + b.ManifestSize
	b.SlotsOff = b.StageOff + DiskStages*DiskBatch*l.PageSize
	b.Size = b.SlotsOff + slots*l.PageSize
	return b
}

// Directory entries: a slot is free, claimed by a copier, or holds page
// i (dirPage + i), ready to be written to disk.
const (
	dirFree    = 0
	dirClaimed = 1
	dirPage    = 2
)

// bufClaim claims a free buffer slot for the fault path or Start: a CAS
// from free to claimed on its directory entry. It fails when limit slots
// (or all) are taken. Fault path: nosplit, no allocation, no locks.
//
//go:nosplit
func (s *Snapshot) bufClaim(limit uint64) (uint64, bool) {
	// Count the slot first, so that concurrent claims never pass limit;
	// a release frees its directory entry before it uncounts it, so a
	// counted claim always finds a free entry.
	u := s.bufUsed.Add(1)
	if u > limit {
		s.bufUsed.Add(^uint64(0))
		return 0, false
	}
	for {
		hw := s.bufHigh.Load()
		if u <= hw || s.bufHigh.CompareAndSwap(hw, u) {
			break
		}
	}
	n := s.buf2.Slots
	for h := s.bufHint.Load(); ; h++ {
		j := h % n
		a := s.base + s.buf2.DirOff + 8*j
		if s.mem.Load64(a) == dirFree && s.mem.CAS64(a, dirFree, dirClaimed) {
			s.bufHint.Store(j + 1)
			return j, true
		}
	}
}

// bufRelease frees slot j (claimed, or written to disk).
//
//go:nosplit
func (s *Snapshot) bufRelease(j uint64) {
	s.mem.Store64(s.base+s.buf2.DirOff+8*j, dirFree)
	s.bufUsed.Add(^uint64(0))
}

// bufSlot returns the RAM address of buffer slot j.
//
//go:nosplit
func (s *Snapshot) bufSlot(j uint64) uint64 { return s.base + s.buf2.SlotsOff + j*s.ps }

// bufCopy copies page i (at pa) into the claimed slot j and publishes it
// for the drain to write to disk. Fault path.
//
//go:nosplit
func (s *Snapshot) bufCopy(j, i, pa uint64) {
	s.mem.Copy(s.bufSlot(j), pa, s.ps)
	s.mem.Store64(s.base+s.buf2.DirOff+8*j, dirPage+i)
}

// faultCopyToBuffer is handleFault's copy of an uncopied page with the
// block backend: it reports whether it copied the page (the caller then
// unprotects it) and, if not, whether the buffer was full (else the page
// left Uncopied under it: the caller looks at its state again). With no
// free slot below limit it neither copies nor unprotects: the store
// faults again, so the writer waits (spinning through the fault) until
// the drain has written buffered pages to disk. See "Storage backends" in
// the package doc.
//
//go:nosplit
func (s *Snapshot) faultCopyToBuffer(i, pa, limit uint64) (copied, full bool) {
	j, got := s.bufClaim(limit)
	if !got {
		s.bufFull.Add(1)
		return false, true
	}
	if !s.casState(i, pageUncopied, pageFaultCopy) {
		s.bufRelease(j)
		return false, false
	}
	// The page is still protected: its content is that of Start.
	s.bufCopy(j, i, pa)
	s.finishFaultCopy(i)
	return true, false
}

// diskOff returns the disk offset of page i's slot.
func (s *Snapshot) diskOff(i uint64) uint64 { return s.layout.DataOff + i*s.ps }

// Disk request kinds (Snapshot.reqKind), by tag.
const (
	reqHeader   = iota + 1 // the header, state capturing
	reqSlot                // buffered page: arg is its slot
	reqRun                 // drained run: arg is first<<16 | pages<<8 | stage
	reqManifest            // the manifest and root hash
	reqMap                 // the copy map
	reqFinal               // the header, state complete
	reqAbort               // the header, state aborted
)

// errDiskTag is returned when the disk reaps a tag that is not
// outstanding.
var errDiskTag = errors.New("the disk completed a request that is not outstanding")

// submit posts one disk request of kind with arg (see reqHeader...) on a
// free tag; the caller has checked s.reqFree != 0.
func (s *Snapshot) submit(kind uint8, arg, off, src, n uint64) error {
	tag := bits.TrailingZeros64(s.reqFree)
	s.reqFree &^= 1 << tag
	s.reqKind[tag], s.reqArg[tag] = kind, arg
	s.inflight++
	s.unkicked++
	s.diskWrites.Add(1)
	return s.disk.Submit(tag, off, src, n)
}

// reap handles every request the disk has completed: written buffer slots
// are freed, written runs' pages become Copied and their staging area
// free, the complete header ends the snapshot.
func (s *Snapshot) reap() error {
	for s.inflight > 0 {
		tag, ok, err := s.disk.Reap()
		if !ok {
			return err
		}
		if tag < 0 || tag >= DiskQueue || s.reqFree&(1<<tag) != 0 {
			return errDiskTag
		}
		s.reqFree |= 1 << tag
		s.inflight--
		if err != nil {
			return err
		}
		arg := s.reqArg[tag]
		switch s.reqKind[tag] {
		case reqSlot:
			s.bufInflight--
			s.bufRelease(arg)
		case reqRun:
			first, k, stage := arg>>16, arg>>8&0xff, arg&0xff
			for i := first; i < first+k; i++ {
				s.setState(i, pageCopied)
			}
			s.drained.Add(k)
			s.stageFree |= 1 << stage
		case reqFinal:
			s.phase.Store(uint32(PhaseDone))
		}
	}
	return nil
}

// hashTo hashes the page at physical address src, page i's final content,
// into manifest entry i in the buffer region ("hash while hot": the page
// was just copied, or is about to be written from there).
func (s *Snapshot) hashTo(i, src uint64) {
	t := s.hashBegin()
	s.page.Reset()
	s.page.Write(s.pageBytes(src))
	s.mem.Write(s.base+s.buf2.ManifestOff+i*HashSize, s.page.Sum(s.sum[:0]))
	s.hashed.Add(1)
	s.hashEnd(t)
}

// diskWork is a DrainStep of the block backend: it reaps completed
// requests, then submits new ones while tags are free — the header
// first, then buffered pages (they hold up faulting writers), then
// drained runs, and in the hash phase the manifest, the copy map and the
// complete header — and kicks the device once. Nothing waits for the
// device. One budget unit is one page copied or hashed (a manifest
// page in the root hash).
func (s *Snapshot) diskWork(budget int) error {
	if err := s.reap(); err != nil {
		return err
	}
	if !s.diskHdr && s.reqFree != 0 {
		if err := s.submit(reqHeader, 0, 0, s.base, s.layout.MapOff); err != nil {
			return err
		}
		s.diskHdr = true
	}
	var err error
	budget, err = s.flushBuffer(budget)
	if err == nil && s.Phase() == PhaseCapturing {
		budget, err = s.diskCapture(budget)
	}
	if err == nil && s.Phase() == PhaseHashing && budget > 0 {
		err = s.diskHash(budget)
	}
	s.kickMaybe(false)
	if err != nil {
		return err
	}
	return s.reap() // what completed meanwhile frees slots now
}

// kickLazy is how many submitted requests wait for a Kick while the
// device still has kicked ones to work on: a notification costs an exit
// to the hypervisor, long under emulation, so the drain does not pay it
// for every request.
const kickLazy = DiskQueue / 4

// kickMaybe kicks the device if requests wait for it and it may run
// out of work (none of the outstanding requests was kicked), enough of
// them wait (kickLazy), no tag is free, or always is set.
func (s *Snapshot) kickMaybe(always bool) {
	if s.unkicked == 0 {
		return
	}
	if always || s.inflight == s.unkicked || s.unkicked >= kickLazy || s.reqFree == 0 || s.Phase() == PhaseHashing {
		s.unkicked = 0
		s.disk.Kick()
	}
}

// flushBuffer hashes buffered pages and submits each to its slot on
// disk (up to budget pages, while tags are free); a slot stays taken
// (claimed) until its request completes. It returns the budget left.
func (s *Snapshot) flushBuffer(budget int) (int, error) {
	n := s.buf2.Slots
	for scanned := uint64(0); scanned < n && budget > 0 && s.reqFree != 0 && s.bufUsed.Load() > s.bufInflight; scanned++ {
		j := s.flushNext % n
		s.flushNext = j + 1
		a := s.base + s.buf2.DirOff + 8*j
		v := s.mem.Load64(a)
		if v < dirPage {
			continue // free, claimed by a copier, or being written
		}
		i := v - dirPage
		s.hashTo(i, s.bufSlot(j))
		s.mem.Store64(a, dirClaimed)
		s.bufInflight++
		budget--
		if err := s.submit(reqSlot, j, s.diskOff(i), s.bufSlot(j), s.ps); err != nil {
			return budget, err
		}
	}
	return budget, nil
}

// diskCapture is capture with the block backend. It stages runs of up to
// DiskBatch uncopied pages with consecutive indices (so consecutive on
// disk) in a free staging area, a page at a time across drain steps (the
// open run), each by the copyViaScratch protocol (copy, then CAS
// Uncopied → DrainWrite) and hashed there; a run is submitted as one
// request when it is full or the next page is not Uncopied (a fault took
// it), and its pages become Copied when it completes (reap). A fault on a
// staged page sees DrainWrite and only unprotects it: the staging area
// holds its clean copy, so flushRun makes staged pages writable too.
// (Config.DrainUninterrupted and DrainStepUninterrupted change nothing
// here.) It returns the budget left.
func (s *Snapshot) diskCapture(budget int) (int, error) {
	l := &s.layout
	for s.Phase() == PhaseCapturing {
		if s.runClosed || s.runK == DiskBatch || s.cursor == l.NumPages && s.runK > 0 {
			if s.reqFree == 0 {
				return budget, nil // submitted once a request completes
			}
			if err := s.submitRun(); err != nil {
				return budget, err
			}
		}
		if s.cursor == l.NumPages {
			s.endCapture()
			return budget, nil
		}
		if budget <= 0 {
			return budget, nil
		}
		i := s.cursor
		if s.state(i) == pageUncopied {
			if s.runK == 0 {
				if s.stageFree == 0 {
					return budget, nil
				}
				s.runStage, s.runFirst = uint64(bits.TrailingZeros8(s.stageFree)), i
				s.stageFree &^= 1 << s.runStage
			}
			dst := s.base + s.buf2.StageOff + (s.runStage*DiskBatch+s.runK)*s.ps
			budget--
			s.mem.Copy(dst, s.pageAddr(i), s.ps)
			if s.casState(i, pageUncopied, pageDrainWrite) {
				s.hashTo(i, dst)
				s.runK++
			} else {
				s.discards.Add(1) // a fault took it (and copies it): the run ends before it
				s.runClosed = s.runK > 0
			}
		} else {
			s.runClosed = s.runK > 0
		}
		pa := s.pageAddr(i)
		s.cursor++
		next := pa + s.ps
		if next%drainChunk == 0 || s.cursor == l.NumPages || s.pageAddr(s.cursor) != next {
			s.flushRun()
		}
	}
	return budget, nil
}

// submitRun submits the open run (a free tag is needed); its staging area
// stays taken until the request completes.
func (s *Snapshot) submitRun() error {
	first, k, sn := s.runFirst, s.runK, s.runStage
	s.runK, s.runClosed = 0, false
	stage := s.base + s.buf2.StageOff + sn*DiskBatch*s.ps
	return s.submit(reqRun, first<<16|k<<8|sn, s.diskOff(first), stage, k*s.ps)
}

// diskHash is the hash phase with the block backend. Every page was
// hashed into the manifest in RAM when it was submitted, so nothing is
// read back from the disk: once every page is hashed (a fault on another
// CPU may still hold a buffered page) the root hash takes the manifest in
// page order (one budget unit a manifest page), then the manifest with
// the root goes to disk; once every request has completed, the copy map
// (every page Copied); once that has, the complete header, whose
// completion ends the snapshot (reap). So the disk reads complete only
// once everything else is on it.
func (s *Snapshot) diskHash(budget int) error {
	l := &s.layout
	if s.hashed.Load() < l.NumPages {
		return nil
	}
	mf := s.base + s.buf2.ManifestOff
	for s.endStep == 0 {
		if s.rootNext == l.NumPages {
			t := s.hashBegin()
			s.mem.Write(mf+l.NumPages*HashSize, s.root.Sum(s.sum[:0]))
			s.hashEnd(t)
			s.endStep = 1
			break
		}
		if budget <= 0 {
			return nil
		}
		budget--
		t := s.hashBegin()
		if s.rootNext == 0 {
			s.rootHeader()
		}
		n := min(s.ps/HashSize, l.NumPages-s.rootNext)
		b := s.buf[:n*HashSize]
		s.mem.Read(mf+s.rootNext*HashSize, b)
		s.root.Write(b)
		s.rootNext += n
		s.hashEnd(t)
	}
	if s.endStep == 1 && s.reqFree != 0 {
		if err := s.submit(reqManifest, 0, l.ManifestOff, mf, s.buf2.ManifestSize); err != nil {
			return err
		}
		s.endStep = 2
	}
	if s.endStep == 2 && s.inflight == 0 {
		p := s.protectBegin()
		s.unprotectAll()
		s.protectEnd(p)
		if err := s.submit(reqMap, 0, l.MapOff, s.base+l.MapOff, l.MapSize); err != nil {
			return err
		}
		s.endStep = 3
	}
	if s.endStep == 3 && s.inflight == 0 {
		s.mem.Write(s.base, l.encodeHeaderTo(s.hdr, StateComplete, s.instant))
		if err := s.submit(reqFinal, 0, 0, s.base, l.MapOff); err != nil {
			return err
		}
		s.endStep = 4
	}
	return nil
}

// diskAbort, after abort wrote the aborted header to the RAM region,
// waits for the outstanding requests (their memory must not be reused
// while the device reads it) and, if the disk got a header, writes the
// aborted one. Errors are ignored: the disk then still reads capturing,
// which no reader takes for complete.
func (s *Snapshot) diskAbort() {
	if s.disk == nil {
		return
	}
	s.kickMaybe(true)
	s.reapAll()
	if s.diskHdr && s.reqFree != 0 {
		if s.submit(reqAbort, 0, 0, s.base, s.layout.MapOff) == nil {
			s.kickMaybe(true)
			s.reapAll()
		}
	}
}

// reapAll reaps until no request is outstanding or the disk fails (its
// driver bounds the wait).
func (s *Snapshot) reapAll() {
	for s.inflight > 0 {
		_, ok, err := s.disk.Reap()
		if ok {
			s.inflight--
		} else if err != nil {
			break // the device failed: nothing more will complete
		}
	}
	s.inflight, s.reqFree = 0, 1<<DiskQueue-1
}

// checkBuffer checks that the eager set fits the block backend's buffer.
func (s *Snapshot) checkBuffer() error {
	if s.disk != nil && s.eagerCount+InterruptSlots > s.buf2.Slots {
		return fmt.Errorf("%w: %d eager pages and %d kept for interrupts, %d buffer pages (snap start buffer=N, N >= %d KiB)",
			ErrBufferSmall, s.eagerCount, InterruptSlots, s.buf2.Slots, (s.eagerCount+InterruptSlots)*s.ps>>10)
	}
	return nil
}

// DiskStats are the block backend's counters (zero for the RAM backend).
type DiskStats struct {
	BufferPages uint64 // buffer slots
	HighWater   uint64 // most slots in use at once
	FullFaults  uint64 // faults turned away because the buffer was full
	Writes      uint64 // disk write requests
	Reads       uint64 // disk read requests (none: pages are hashed as they are written)
	RAMBytes    uint64 // the RAM region the backend uses (BufferLayout.Size)
}

// DiskStats returns the block backend's counters.
func (s *Snapshot) DiskStats() DiskStats {
	if s.disk == nil {
		return DiskStats{}
	}
	return DiskStats{BufferPages: s.buf2.Slots, HighWater: s.bufHigh.Load(), FullFaults: s.bufFull.Load(),
		Writes: s.diskWrites.Load(), Reads: s.diskReads.Load(), RAMBytes: s.buf2.Size}
}

// resetBuffer empties the buffer and its counters for a new snapshot
// (Start: no allocation).
func (s *Snapshot) resetBuffer() {
	for j := uint64(0); j < s.buf2.Slots; j++ {
		s.mem.Store64(s.base+s.buf2.DirOff+8*j, dirFree)
	}
	s.bufHint.Store(0)
	s.bufUsed.Store(0)
	s.bufHigh.Store(0)
	s.bufFull.Store(0)
	s.diskWrites.Store(0)
	s.diskReads.Store(0)
	s.diskHdr, s.flushNext, s.bufInflight = false, 0, 0
	s.reqFree, s.inflight, s.unkicked = 1<<DiskQueue-1, 0, 0
	s.stageFree, s.endStep, s.rootNext = 1<<DiskStages-1, 0, 0
	s.runK, s.runClosed = 0, false
}

// Saved reports whether the Start content of the page containing addr is
// kept (copied, or being written from a clean copy), or needs no keeping
// (no snapshot capturing or hashing, addr not captured). A caller that
// must not proceed before the page is kept — the kernel's DMA allocation
// guard, which cannot wait inside the fault path for a full buffer —
// retries until it reports true.
func (s *Snapshot) Saved(addr uint64) bool {
	if p := s.Phase(); p != PhaseCapturing && p != PhaseHashing {
		return true
	}
	i, ok := s.pageIndex(addr)
	if !ok {
		return true
	}
	st := s.state(i)
	return st == pageCopied || st == pageDrainWrite
}

// HeaderSize is how many bytes of an image's start HeaderState reads.
const HeaderSize = 64

// HeaderState reads the state and instant of the image whose first
// HeaderSize bytes are b (a disk's first sector, read at boot): ok is
// false if b does not start with a header of this format version. A
// kernel refuses to overwrite a disk whose image is complete (a previous
// boot's snapshot) without being told to.
func HeaderState(b []byte) (st State, instant uint64, ok bool) {
	if len(b) < HeaderSize || string(b[hdrMagic:hdrMagic+8]) != Magic ||
		binary.LittleEndian.Uint32(b[hdrVersion:]) != Version {
		return 0, 0, false
	}
	return State(binary.LittleEndian.Uint32(b[hdrState:])), binary.LittleEndian.Uint64(b[hdrInstant:]), true
}
