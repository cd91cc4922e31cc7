package snapshot_test

import (
	"bytes"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// memDisk is a block device in host memory, asynchronous like a real
// one: Submit queues a request, Kick hands the queued requests to the
// "device", and Reap completes the oldest one, moving its bytes from the
// simulated physical memory only then (so a buffer the engine reused
// before completion would show in the image), and only once delay has
// passed since the previous completion (a slow disk). Every request from
// the failAt-th write on fails (0: never).
type memDisk struct {
	mem    *sim.Memory
	b      []byte
	delay  time.Duration
	failAt uint64
	writes atomic.Uint64

	q          [64]memReq // ring of queued requests
	head, tail int        // q[head%64:tail%64] queued, [head, kicked) visible to the device
	kicked     int
	last       time.Time
	maxQueued  int
	hold       bool // complete nothing (a device that is slow to answer)
}

type memReq struct {
	tag         int
	off, src, n uint64
	fail        bool
}

var errDisk = errors.New("disk: injected I/O error")

func (d *memDisk) Size() uint64 { return uint64(len(d.b)) }

func (d *memDisk) Submit(tag int, off, src, n uint64) error {
	if d.tail-d.head == len(d.q) || off+n > uint64(len(d.b)) {
		return errors.New("disk: bad request")
	}
	w := d.writes.Add(1)
	d.q[d.tail%len(d.q)] = memReq{tag: tag, off: off, src: src, n: n, fail: d.failAt != 0 && w >= d.failAt}
	d.tail++
	d.maxQueued = max(d.maxQueued, d.tail-d.head)
	return nil
}

func (d *memDisk) Kick() { d.kicked = d.tail }

func (d *memDisk) Reap() (int, bool, error) {
	if d.head == d.kicked || d.hold {
		return 0, false, nil
	}
	if d.delay > 0 && time.Since(d.last) < d.delay {
		runtime.Gosched()
		return 0, false, nil
	}
	r := d.q[d.head%len(d.q)]
	d.head++
	d.last = time.Now()
	if r.fail {
		return r.tag, true, errDisk
	}
	d.mem.Read(r.src, d.b[r.off:r.off+r.n])
	return r.tag, true, nil
}

// eagerPages is the fixture's eager set inside the captured ranges: the
// fault stack, the tables and pool, and the two DMA ranges.
const eagerPages = 16 + 64 + 64 + 16

// newDiskFixture is newFixture with the block backend: the image goes to
// a memDisk, the storage region holds the RAM buffer of bufPages.
func newDiskFixture(t testing.TB, arch mmu.Arch, seed uint64, o opts, bufPages uint64, delay time.Duration) (*fixture, *memDisk) {
	t.Helper()
	f := newFixture(t, arch, seed, o)
	l, err := snapshot.NewLayout(4096, ramRanges)
	if err != nil {
		t.Fatal(err)
	}
	// Not zeros (a dropped write of a zero page would not show).
	d := &memDisk{mem: f.m.Mem, b: bytes.Repeat([]byte{0xa5}, int(l.Size)), delay: delay}
	f.cfg.Disk, f.cfg.BufferPages = d, bufPages
	if f.s, err = snapshot.New(f.cfg); err != nil {
		t.Fatal(err)
	}
	f.m.Fault = f.s.HandleWriteFault
	f.m.MaxRetries = 1 << 30 // a full buffer makes a store fault until the drain frees a slot
	return f, d
}

// checkDisk reads the image back from the disk as a file and compares
// every page with memory at Start; it returns the differing pages.
func checkDisk(t testing.TB, f *fixture, d *memDisk) []uint64 {
	t.Helper()
	im, err := snapshot.ReadImage(bytes.NewReader(d.b), int64(len(d.b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if im.Instant != 12345 || len(im.Ranges) != 2 || im.CopiedPages() != im.NumPages {
		t.Fatalf("header: %+v, %d pages copied", im, im.CopiedPages())
	}
	return mismatches(t, im, f.ref)
}

// runDisk runs workload, DMA device and drain around a Start with the
// block backend and checks the disk image bit for bit.
func runDisk(t *testing.T, arch mmu.Arch, seed uint64, o opts, bufPages uint64, delay time.Duration) *fixture {
	f, d := newDiskFixture(t, arch, seed, o, bufPages, delay)
	w := &sim.Workload{M: f.m, Ranges: workRanges, CPUs: 4, Seed: seed}
	var dmaR []sim.Range
	for _, r := range dmaRanges {
		dmaR = append(dmaR, sim.Range{Base: r.Base, Size: r.Size})
	}
	dw := &sim.DMAWriter{M: f.m, Ranges: dmaR, Seed: seed}
	w.Start()
	dw.Start()
	for w.Stores.Load() < 2000 {
		runtime.Gosched()
	}
	f.start(t)
	dw.Burst(500)
	f.drain(t, 1+int(seed%16))
	dw.Stop()
	if err := w.Stop(); err != nil {
		t.Fatalf("%v seed %d: workload: %v", arch, seed, err)
	}
	if bad := checkDisk(t, f, d); len(bad) > 0 {
		t.Fatalf("%v seed %d: %d pages differ from memory at Start, first %#x", arch, seed, len(bad), bad[0])
	}
	st, ds := f.s.Stats(), f.s.DiskStats()
	l := f.s.Layout()
	if st.EagerPages != eagerPages || st.EagerPages+st.FaultCopies+st.DrainedPages != l.NumPages {
		t.Fatalf("%v seed %d: copies %+v do not add up to %d pages", arch, seed, st, l.NumPages)
	}
	if ds.HighWater > ds.BufferPages || ds.HighWater < eagerPages {
		t.Fatalf("%v seed %d: buffer high-water mark %d of %d slots", arch, seed, ds.HighWater, ds.BufferPages)
	}
	checkAllWritable(t, f)
	t.Logf("%v seed %d: %+v; %+v", arch, seed, st, ds)
	return f
}

// TestDiskEqualsMemoryAtStart: with the block backend and the default
// buffer the disk image equals memory at Start, bit for bit, with both
// drains (through scratch, and straight from the page).
func TestDiskEqualsMemoryAtStart(t *testing.T) {
	seeds := uint64(4)
	if quick() {
		seeds = 2
	}
	archs := []mmu.Arch{mmu.AMD64, mmu.ARM64}
	if raceEnabled {
		seeds, archs = 1, archs[:1] // the race detector slows the simulation about 20 times
	}
	for _, arch := range archs {
		for seed := uint64(1); seed <= seeds; seed++ {
			runDisk(t, arch, seed, opts{direct: seed%2 == 0}, 0, 0)
		}
	}
}

// TestDiskBufferFull forces the buffer-full path: a buffer just above the
// eager set and a slow disk, so that the workload's faults find no free
// slot and wait. The image must still be complete and bit-exact, and the
// high-water mark must be the whole buffer but the interrupt reserve.
func TestDiskBufferFull(t *testing.T) {
	archs := []mmu.Arch{mmu.AMD64, mmu.ARM64}
	if raceEnabled {
		archs = archs[:1] // millions of faults wait: slow under the race detector
	}
	for _, arch := range archs {
		f := runDisk(t, arch, 7, opts{}, eagerPages+snapshot.InterruptSlots, 200*time.Microsecond)
		ds := f.s.DiskStats()
		if ds.FullFaults == 0 || ds.HighWater != ds.BufferPages-snapshot.InterruptSlots {
			t.Fatalf("%v: the buffer never filled: %+v", arch, ds)
		}
	}
}

// TestDiskBufferTooSmall: a buffer that cannot hold the eager set is
// refused by New, naming the size needed.
func TestDiskBufferTooSmall(t *testing.T) {
	f := newFixture(t, mmu.AMD64, 1, opts{})
	l, _ := snapshot.NewLayout(4096, ramRanges)
	f.cfg.Disk = &memDisk{mem: f.m.Mem, b: make([]byte, l.Size)}
	f.cfg.BufferPages = eagerPages + snapshot.InterruptSlots - 1
	_, err := snapshot.New(f.cfg)
	if !errors.Is(err, snapshot.ErrBufferSmall) {
		t.Fatalf("New: %v, want ErrBufferSmall", err)
	}
	t.Log(err)
	f.cfg.BufferPages = eagerPages + snapshot.InterruptSlots
	s, err := snapshot.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddEager(snapshot.Range{Base: 1 * MiB, Size: 4096}); !errors.Is(err, snapshot.ErrBufferSmall) {
		t.Fatalf("AddEager: %v, want ErrBufferSmall", err)
	}
	f.cfg.Disk = &memDisk{mem: f.m.Mem, b: make([]byte, l.Size-4096)}
	if _, err := snapshot.New(f.cfg); !errors.Is(err, snapshot.ErrStorage) {
		t.Fatalf("New with a short disk: %v, want ErrStorage", err)
	}
}

// TestDiskError: a failing disk aborts the snapshot (all memory writable
// again) and DrainStep returns the error; the disk never reads complete.
func TestDiskError(t *testing.T) {
	f, d := newDiskFixture(t, mmu.AMD64, 3, opts{}, 0, 0)
	d.failAt = 100
	f.start(t)
	var err error
	for i := 0; i < 100000 && err == nil; i++ {
		_, err = f.s.DrainStep(16)
	}
	if !errors.Is(err, errDisk) || f.s.Phase() != snapshot.PhaseAborted {
		t.Fatalf("DrainStep: %v, phase %v", err, f.s.Phase())
	}
	im, rerr := snapshot.ReadImage(bytes.NewReader(d.b), int64(len(d.b)))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if im.State != snapshot.StateCapturing {
		t.Fatalf("disk header state %v, want capturing", im.State)
	}
	checkAllWritable(t, f)
}

// TestDiskNoAllocations: with the block backend Start (with Abort), the
// fault path and DrainStep in both phases allocate nothing either (the
// disk here allocates nothing).
func TestDiskNoAllocations(t *testing.T) {
	skipUnderRace(t)
	f, d := newDiskFixture(t, mmu.AMD64, 5, opts{}, 0, 0)
	f.m.Mem.Populate(storageR.Base, storageR.Size)
	f.m.Mem.Populate(0, 18*MiB)
	f.m.NewCPU()
	s := f.s
	if n := testing.AllocsPerRun(20, func() {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		if err := s.Abort(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Start+Abort: %v allocations", n)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	pa := uint64(4 * MiB)
	if n := testing.AllocsPerRun(20, func() {
		if !s.HandleWriteFault(pa) {
			t.Fatal("fault not handled")
		}
		pa += 4096
	}); n != 0 {
		t.Errorf("HandleWriteFault: %v allocations", n)
	}
	if n := testing.AllocsPerRun(50, func() {
		if _, err := s.DrainStep(1); err != nil { // one page
			t.Fatal(err)
		}
	}); n != 0 || s.Phase() != snapshot.PhaseCapturing {
		t.Errorf("DrainStep (capture): %v allocations, phase %v", n, s.Phase())
	}
	for s.Phase() == snapshot.PhaseCapturing {
		s.DrainStep(1000)
	}
	if n := testing.AllocsPerRun(1, func() {
		for !s.Done() {
			if _, err := s.DrainStep(16); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Errorf("DrainStep (hashing, end): %v allocations", n)
	}
	im, err := snapshot.ReadImage(bytes.NewReader(d.b), int64(len(d.b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestDiskPrepareWriteFull: a write fault leaves the InterruptSlots
// reserve free; PrepareWrite (the interrupt path, which cannot wait) uses
// it, and once it is used up refuses and leaves the page protected; after
// the drain has written buffered pages out it copies the page and makes it
// writable.
func TestDiskPrepareWriteFull(t *testing.T) {
	skipUnderRace(t) // one goroutine: nothing for the race detector
	f, d := newDiskFixture(t, mmu.AMD64, 2, opts{}, eagerPages+snapshot.InterruptSlots, 0)
	f.start(t) // the eager set fills the buffer but the reserve
	protected := func(pa uint64) bool {
		t.Helper()
		nw, err := f.m.NotWritable(pa, 4096)
		if err != nil {
			t.Fatal(err)
		}
		return len(nw) == 1
	}
	pa := uint64(4 * MiB)
	if !f.s.HandleWriteFault(pa) || !protected(pa) {
		t.Fatal("a write fault took a reserved slot")
	}
	for k := uint64(0); k < snapshot.InterruptSlots; k++ {
		if !f.s.PrepareWrite(pa+k*4096) || protected(pa+k*4096) {
			t.Fatalf("PrepareWrite %d refused with reserved slots free", k)
		}
	}
	pa += snapshot.InterruptSlots * 4096
	if f.s.PrepareWrite(pa) || !protected(pa) || f.s.Saved(pa) {
		t.Fatal("PrepareWrite succeeded with the buffer full")
	}
	if _, err := f.s.DrainStep(1); err != nil {
		t.Fatal(err)
	}
	if !f.s.PrepareWrite(pa) || protected(pa) || !f.s.Saved(pa) {
		t.Fatal("PrepareWrite refused after the drain freed a slot")
	}
	f.drain(t, 64)
	if bad := checkDisk(t, f, d); len(bad) > 0 {
		t.Fatalf("%d pages differ, first %#x", len(bad), bad[0])
	}
	if ds := f.s.DiskStats(); ds.FullFaults != 2 || ds.HighWater != eagerPages+snapshot.InterruptSlots {
		t.Fatalf("%+v", ds)
	}
}

// TestHeaderState: a disk's first bytes say whether it holds a complete
// image (HeaderState), as the kernel reads them at boot.
func TestHeaderState(t *testing.T) {
	f, d := newDiskFixture(t, mmu.AMD64, 4, opts{}, 0, 0)
	if _, _, ok := snapshot.HeaderState(d.b[:snapshot.HeaderSize]); ok {
		t.Fatal("a blank disk has a header")
	}
	f.start(t)
	f.drain(t, 64)
	st, instant, ok := snapshot.HeaderState(d.b[:snapshot.HeaderSize])
	if !ok || st != snapshot.StateComplete || instant != 12345 {
		t.Fatalf("HeaderState: %v %d %v", st, instant, ok)
	}
	if _, _, ok := snapshot.HeaderState(d.b[:snapshot.HeaderSize-1]); ok {
		t.Fatal("a short header read")
	}
	d.b[8]++ // another format version
	if _, _, ok := snapshot.HeaderState(d.b[:snapshot.HeaderSize]); ok {
		t.Fatal("a foreign version read")
	}
}

// TestDiskAsync: the drain never waits for the disk. With a device that
// completes nothing, DrainStep keeps returning, with DiskQueue requests
// outstanding, every one kicked, and submits no more; once the device
// answers, the snapshot completes bit-exact (memDisk reads a request's
// memory at completion: a slot or staging area reused before that would
// show).
func TestDiskAsync(t *testing.T) {
	f, d := newDiskFixture(t, mmu.AMD64, 6, opts{}, 0, 0)
	d.hold = true
	f.start(t)
	before := f.s.DiskStats()
	for i := 0; i < 1000; i++ {
		if done, err := f.s.DrainStep(4); done || err != nil {
			t.Fatalf("DrainStep: done %v, %v", done, err)
		}
	}
	if q := d.tail - d.head; q != snapshot.DiskQueue || d.maxQueued != snapshot.DiskQueue || d.kicked != d.tail {
		t.Fatalf("%d requests queued (most %d), %d kicked; want %d, all kicked", q, d.maxQueued, d.kicked-d.head, snapshot.DiskQueue)
	}
	if ds := f.s.DiskStats(); ds.Writes != snapshot.DiskQueue || ds.HighWater != before.HighWater {
		t.Fatalf("with nothing completed: %+v (at Start %+v)", ds, before)
	}
	d.hold = false
	f.drain(t, 16)
	if bad := checkDisk(t, f, d); len(bad) > 0 {
		t.Fatalf("%d pages differ, first %#x", len(bad), bad[0])
	}
	if d.maxQueued > snapshot.DiskQueue {
		t.Fatalf("%d requests outstanding at once", d.maxQueued)
	}
}
