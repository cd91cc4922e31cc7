package snapshot_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pagesnap/pagesnap/internal/blake2b"
	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// TestBLAKE2bImage: with Config.HashAlg = HashBLAKE2b256 the engine, under
// the concurrent workload and DMA of the property test, writes an image
// equal to memory at Start whose header records the algorithm, whose
// manifest holds each page's BLAKE2b-256 (computed here independently of
// the engine's NewHash) and that Verify accepts; a flipped data bit, and
// the same image relabelled SHA-256, fail.
func TestBLAKE2bImage(t *testing.T) {
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		f, bad, viol := runProperty(t, arch, 5, opts{hashAlg: snapshot.HashBLAKE2b256})
		if len(bad) != 0 || viol != "" {
			t.Fatalf("%v: %d pages differ from memory at Start (%x...); %s", arch, len(bad), bad[:min(len(bad), 4)], viol)
		}
		l := f.s.Layout()
		if l.HashAlg != snapshot.HashBLAKE2b256 {
			t.Fatalf("%v: layout HashAlg %d", arch, l.HashAlg)
		}
		read := func() *snapshot.Image {
			t.Helper()
			im, err := snapshot.ReadImage(f.m.Mem.ReaderAt(storageR.Base, storageR.Size), int64(storageR.Size))
			if err != nil {
				t.Fatal(err)
			}
			return im
		}
		im := read()
		if im.HashAlg != snapshot.HashBLAKE2b256 {
			t.Fatalf("%v: header HashAlg %d", arch, im.HashAlg)
		}
		for _, i := range []uint64{0, 1, l.NumPages / 2, l.NumPages - 1} {
			pg, err := im.Page(l.PageAddr(i))
			if err != nil {
				t.Fatal(err)
			}
			want := blake2b.Sum256(pg)
			got := make([]byte, snapshot.HashSize)
			f.m.Mem.Read(storageR.Base+l.ManifestOff+i*snapshot.HashSize, got)
			if !bytes.Equal(got, want[:]) {
				t.Fatalf("%v: manifest entry %d %x, want BLAKE2b-256 %x", arch, i, got, want)
			}
		}
		// The algorithm field is bound to the hashes: relabelled, the
		// first page fails.
		w := f.m.Mem.Load64(storageR.Base + 8)
		f.m.Mem.Store64(storageR.Base+8, w&0xffffffff|uint64(snapshot.HashSHA256)<<32)
		var pe *snapshot.PageError
		if err := read().Verify(); !errors.As(err, &pe) || !errors.Is(err, snapshot.ErrHashMismatch) || pe.Addr != l.PageAddr(0) {
			t.Errorf("%v: relabelled SHA-256: Verify = %v, want a hash mismatch at page %#x", arch, err, l.PageAddr(0))
		}
		f.m.Mem.Store64(storageR.Base+8, w)
		if err := read().Verify(); err != nil {
			t.Fatalf("%v: restored header: %v", arch, err)
		}
		// One bit of one page's data.
		pa := l.PageAddr(l.NumPages / 3)
		slot := storageR.Base + l.DataOff + l.NumPages/3*4096 + 8*100
		f.m.Mem.Store64(slot, f.m.Mem.Load64(slot)^1<<17)
		if err := read().Verify(); !errors.As(err, &pe) || !errors.Is(err, snapshot.ErrHashMismatch) || pe.Addr != pa {
			t.Errorf("%v: flipped bit: Verify = %v, want a hash mismatch at page %#x", arch, err, pa)
		}
	}
}

// TestHashAlgRefused: New refuses an unknown algorithm; NewHash names it.
func TestHashAlgRefused(t *testing.T) {
	f := newFixture(t, mmu.AMD64, 1, opts{})
	cfg := f.cfg
	cfg.HashAlg = 3
	if _, err := snapshot.New(cfg); !errors.Is(err, snapshot.ErrConfig) || !errors.Is(err, snapshot.ErrHashAlg) {
		t.Errorf("New with HashAlg 3: %v", err)
	}
	if _, err := snapshot.NewHash(3); err == nil || err.Error() != "snapshot: unsupported hash algorithm 3" {
		t.Errorf("NewHash(3): %v", err)
	}
	for _, alg := range []uint32{snapshot.HashSHA256, snapshot.HashBLAKE2b256} {
		if h, err := snapshot.NewHash(alg); err != nil || h.Size() != snapshot.HashSize {
			t.Errorf("NewHash(%d): %v", alg, err)
		}
	}
}
