package snapshot

import (
	"errors"
	"fmt"
)

// Disk is a block device that receives the image (the block backend, see
// "Storage backends" in the package doc). The image on the disk has the
// format of the RAM storage, from byte 0.
//
// Only the drain calls its methods (DrainStep and Abort), never the fault
// path or Start. A kernel may call DrainStep from a timer interrupt, so
// WriteAt and ReadAt must allocate nothing, take no lock an interrupted
// goroutine may hold and return when the transfer is done (e.g. by polling
// the device). They transfer between the disk and physical memory: the
// buffer region (Config.Storage) or, for WriteAt, a captured page that is
// still write-protected.
type Disk interface {
	// Size returns the disk's size in bytes.
	Size() uint64
	// WriteAt writes n bytes (a multiple of the page size) from physical
	// address src to the disk at byte offset off.
	WriteAt(off, src, n uint64) error
	// WriteBatch writes n bytes from srcs[k] to offset offs[k] for every
	// k (at most DiskBatch requests, which the device may run at once)
	// and returns when all are done.
	WriteBatch(offs, srcs []uint64, n uint64) error
	// ReadAt reads n bytes from the disk at byte offset off into physical
	// memory at dst.
	ReadAt(off, dst, n uint64) error
}

// Buffer sizes of the block backend.
const (
	// MaxDefaultBuffer is the largest default RAM buffer (64 MiB).
	MaxDefaultBuffer = 64 << 20
	// InterruptSlots buffer slots are kept for PrepareWrite (the
	// interrupt path, which cannot wait for the drain): write faults
	// leave them free. The timer tick prepares at most two pages (the
	// interrupted g, a preemption frame) before it drains, and its drain
	// writes buffered pages out first, so the reserve is not used up.
	InterruptSlots = 8
	// MinBufferPages is the smallest buffer: the eager set must fit too.
	MinBufferPages = InterruptSlots + 4
	// readAhead is the most pages the hash phase reads back in one request.
	readAhead = 64
	// DiskBatch is the most requests (buffered pages) the drain hands the
	// disk at once with WriteBatch, and the most pages of one drained run
	// (one request): each round trip to the device is slow.
	DiskBatch = 32
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
// image's own offsets, then the slot directory (one uint64 per slot),
// one manifest page, the drain's staging area and the slots.
type BufferLayout struct {
	Slots       uint64 // buffer slots (pages)
	DirOff      uint64 // slot directory
	ManifestOff uint64 // one page: the manifest page being filled
	StageOff    uint64 // DiskBatch pages: the drain's run being written
	SlotsOff    uint64 // slot j at SlotsOff + j*PageSize
	Size        uint64 // bytes of RAM the block backend needs
}

// NewBufferLayout returns the RAM region layout of the block backend for
// image layout l and a buffer of slots pages.
func NewBufferLayout(l Layout, slots uint64) BufferLayout {
	b := BufferLayout{Slots: slots, DirOff: l.DataOff}
	b.ManifestOff = b.DirOff + roundUp(8*slots, l.PageSize)
	b.StageOff = b.ManifestOff + l.PageSize
	b.SlotsOff = b.StageOff + DiskBatch*l.PageSize
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

// diskStep is the block backend's part of a DrainStep before copying or
// hashing: the header (state capturing) goes to disk first, then up to
// budget buffered pages go to their slots. It returns the budget left.
func (s *Snapshot) diskStep(budget int) (int, error) {
	if !s.diskHdr {
		if err := s.disk.WriteAt(0, s.base, s.layout.MapOff); err != nil {
			return budget, err
		}
		s.diskWrites.Add(1)
		s.diskHdr = true
	}
	n := s.buf2.Slots
	for budget > 0 && s.bufUsed.Load() > 0 {
		k := 0
		for scanned := uint64(0); scanned < n && k < DiskBatch && k < budget; scanned++ {
			j := s.flushNext % n
			s.flushNext = j + 1
			v := s.mem.Load64(s.base + s.buf2.DirOff + 8*j)
			if v < dirPage {
				continue
			}
			s.batchOff[k], s.batchSrc[k], s.batchSlot[k] = s.diskOff(v-dirPage), s.bufSlot(j), j
			k++
		}
		if k == 0 {
			break // only claimed slots, being filled
		}
		err := s.disk.WriteBatch(s.batchOff[:k], s.batchSrc[:k], s.ps)
		s.diskWrites.Add(uint64(k))
		if err != nil {
			return budget, err
		}
		for _, j := range s.batchSlot[:k] {
			s.bufRelease(j)
		}
		budget -= k
	}
	return budget, nil
}

// diskCapture is capture with the block backend: it stages a run of up
// to DiskBatch uncopied pages with consecutive indices (so consecutive on
// disk) in the staging area, each by the copyViaScratch protocol (copy,
// then CAS Uncopied → DrainWrite; a fault that takes a page ends the
// run), writes the run with one request, then marks its pages Copied. A
// fault on a staged page sees DrainWrite and only unprotects it: the
// staging area holds its clean copy. (Config.DrainUninterrupted and
// DrainStepUninterrupted change nothing here.) It returns the budget left, whether this call ended the
// phase, and a disk error.
func (s *Snapshot) diskCapture(budget int) (int, bool, error) {
	l := &s.layout
	stage := s.base + s.buf2.StageOff
	for budget > 0 && s.Phase() == PhaseCapturing {
		if s.cursor == l.NumPages {
			s.endCapture()
			return budget, true, nil
		}
		first := s.cursor
		var k uint64
		for k < DiskBatch && int(k) < budget && first+k < l.NumPages && s.state(first+k) == pageUncopied {
			i := first + k
			s.mem.Copy(stage+k*s.ps, s.pageAddr(i), s.ps)
			if !s.casState(i, pageUncopied, pageDrainWrite) {
				s.discards.Add(1)
				break // a fault took it (and copies it): the run ends before it
			}
			k++
		}
		var err error
		if k > 0 {
			err = s.disk.WriteAt(s.diskOff(first), stage, k*s.ps)
			s.diskWrites.Add(1)
			for i := first; i < first+k; i++ {
				s.setState(i, pageCopied)
			}
			s.drained.Add(k)
			budget -= int(k)
		}
		for range max(k, 1) {
			pa := s.pageAddr(s.cursor)
			s.cursor++
			next := pa + s.ps
			if next%drainChunk == 0 || s.cursor == l.NumPages || s.pageAddr(s.cursor) != next {
				s.flushRun()
			}
		}
		if err != nil {
			return budget, false, err
		}
	}
	return budget, false, nil
}

// diskHash is the hash phase with the block backend: once every buffered
// page is on disk (a fault on another CPU may still hold a slot), it reads
// the pages back from disk into the (now free) buffer, up to readAhead at
// a time, hashes them into the manifest page, which goes to disk when
// full, and completes the snapshot. It reports whether it is complete.
func (s *Snapshot) diskHash(budget int) (bool, error) {
	if s.bufUsed.Load() > 0 {
		return false, nil // diskStep flushes them; a claimed slot is still being filled
	}
	l := &s.layout
	for budget > 0 && s.Phase() == PhaseHashing {
		if s.hashNext == l.NumPages {
			return s.diskComplete()
		}
		i := s.hashNext
		if s.state(i) != pageCopied {
			return false, nil // a fault on another CPU still copying it (host only)
		}
		if i < s.raFirst || i >= s.raFirst+s.raCount {
			n := min(readAhead, s.buf2.Slots, l.NumPages-i)
			if err := s.disk.ReadAt(s.diskOff(i), s.bufSlot(0), n*s.ps); err != nil {
				return false, err
			}
			s.diskReads.Add(1)
			s.raFirst, s.raCount = i, n
		}
		budget--
		s.mem.Read(s.bufSlot(i-s.raFirst), s.buf)
		sum := s.hashBuf()
		if err := s.manifestPut(i, sum); err != nil {
			return false, err
		}
		s.hashNext++
	}
	return s.Phase() == PhaseDone, nil
}

// manifestPut stores hash k (page k's, or the root at k = NumPages) in the
// manifest page buffer and writes that page to disk when it is full or k
// is the root.
func (s *Snapshot) manifestPut(k uint64, sum []byte) error {
	off := k * HashSize
	page := off &^ (s.ps - 1)
	mb := s.base + s.buf2.ManifestOff
	s.mem.Write(mb+off-page, sum)
	if off+HashSize-page < s.ps && k < s.layout.NumPages {
		return nil
	}
	if err := s.disk.WriteAt(s.layout.ManifestOff+page, mb, s.ps); err != nil {
		return err
	}
	s.diskWrites.Add(1)
	for a := mb; a < mb+s.ps; a += 8 {
		s.mem.Store64(a, 0)
	}
	return nil
}

// diskComplete is complete for the block backend: the root hash, then the
// copy map, then the header (state complete) go to disk, in that order, so
// that the disk reads complete only once everything else is there.
func (s *Snapshot) diskComplete() (bool, error) {
	l := &s.layout
	s.unprotectAll()
	if err := s.manifestPut(l.NumPages, s.root.Sum(s.sum[:0])); err != nil {
		return false, err
	}
	if err := s.disk.WriteAt(l.MapOff, s.base+l.MapOff, l.MapSize); err != nil {
		return false, err
	}
	s.mem.Write(s.base, l.encodeHeaderTo(s.hdr, StateComplete, s.instant))
	if err := s.disk.WriteAt(0, s.base, l.MapOff); err != nil {
		return false, err
	}
	s.diskWrites.Add(3)
	s.phase.Store(uint32(PhaseDone))
	return true, nil
}

// diskAbort writes the aborted header to disk if the disk got a header
// (errors are ignored: the disk then still reads capturing, which no
// reader takes for complete).
func (s *Snapshot) diskAbort() {
	if s.disk != nil && s.diskHdr {
		_ = s.disk.WriteAt(0, s.base, s.layout.MapOff)
	}
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
	Reads       uint64 // disk read requests (hash phase)
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
	s.diskHdr, s.flushNext, s.raFirst, s.raCount = false, 0, 0, 0
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
