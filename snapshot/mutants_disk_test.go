package snapshot_test

// Tests for survivors of the mutation run of disk.go (MUTANTS.md).

import (
	"errors"
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// TestDefaultBufferPages: 5 % of the captured pages, at least
// MinBufferPages, at most 64 MiB of pages.
func TestDefaultBufferPages(t *testing.T) {
	for _, c := range []struct{ pages, ps, want uint64 }{
		{100, 4096, snapshot.MinBufferPages},
		{1000, 4096, 50},
		{1 << 20, 4096, 16384}, // 4 GiB captured: 64 MiB
		{1 << 20, 16384, 4096},
		{400000, 4096, 16384}, // 20000 pages would be 78 MiB
	} {
		if got := snapshot.DefaultBufferPages(c.pages, c.ps); got != c.want {
			t.Errorf("DefaultBufferPages(%d, %d) = %d, want %d", c.pages, c.ps, got, c.want)
		}
	}
}

// TestBufferLayoutExact: the block backend's RAM region, offset by
// offset: directory after the image's first DataOff bytes, the manifest,
// the staging areas, then the slots, and nothing after them.
func TestBufferLayoutExact(t *testing.T) {
	l, err := snapshot.NewLayout(4096, []snapshot.Range{{Base: 1 << 20, Size: 1000 * 4096}})
	if err != nil {
		t.Fatal(err)
	}
	b := snapshot.NewBufferLayout(l, 600)
	manifest := (l.NumPages + 1) * snapshot.HashSize
	manifest = (manifest + 4095) &^ 4095
	want := snapshot.BufferLayout{
		Slots:        600,
		DirOff:       l.DataOff,
		ManifestOff:  l.DataOff + 8192, // 600 directory words: two pages
		ManifestSize: manifest,
		StageOff:     l.DataOff + 8192 + manifest,
		SlotsOff:     l.DataOff + 8192 + manifest + snapshot.DiskStages*snapshot.DiskBatch*4096,
	}
	want.Size = want.SlotsOff + 600*4096
	if b != want {
		t.Errorf("NewBufferLayout = %+v\nwant %+v", b, want)
	}
}

// TestDiskStorageExact: with the block backend, a buffer region of
// exactly NewBufferLayout's Size and a disk of exactly the image's size
// are enough; a page less of either is refused with ErrStorage.
func TestDiskStorageExact(t *testing.T) {
	l, err := snapshot.NewLayout(4096, ramRanges)
	if err != nil {
		t.Fatal(err)
	}
	const slots = 256 // the fixture's 160 eager pages, InterruptSlots and some
	bl := snapshot.NewBufferLayout(l, slots)
	for _, c := range []struct {
		buf, disk uint64
		ok        bool
	}{
		{bl.Size, l.Size, true},
		{bl.Size - 4096, l.Size, false},
		{bl.Size, l.Size - 4096, false},
	} {
		f := newFixture(t, mmu.AMD64, 1, opts{})
		f.cfg.Disk = &memDisk{mem: f.m.Mem, b: make([]byte, c.disk)}
		f.cfg.BufferPages = slots
		f.cfg.Storage = snapshot.Range{Base: storageR.Base, Size: c.buf}
		_, err := snapshot.New(f.cfg)
		if c.ok && err != nil || !c.ok && !errors.Is(err, snapshot.ErrStorage) {
			t.Errorf("buffer %#x, disk %#x: %v", c.buf, c.disk, err)
		}
	}
}
