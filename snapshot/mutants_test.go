package snapshot

// Tests added for the survivors of the mutation run (MUTANTS.md): each
// pins an exact result a mutant changed without any other test noticing.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"reflect"
	"sync"
	"testing"
	"unsafe"
)

// TestReadImageMaxRanges: a header with MaxRanges captured ranges fills
// the 4 KiB header exactly and is read back; one excluded range more, or
// one captured range more, does not fit.
func TestReadImageMaxRanges(t *testing.T) {
	rs := make([]Range, MaxRanges)
	for i := range rs {
		rs[i] = Range{Base: uint64(i) * 0x2000, Size: 0x1000}
	}
	if headerLen(MaxRanges, 0) != MinPageSize {
		t.Fatalf("headerLen(MaxRanges, 0) = %d", headerLen(MaxRanges, 0))
	}
	img, _ := buildImage(t, 4096, rs, 7, fillRand(3))
	im, err := ReadImage(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatalf("%d ranges: %v", MaxRanges, err)
	}
	if len(im.Ranges) != MaxRanges || im.NumPages != MaxRanges || im.Ranges[MaxRanges-1] != rs[MaxRanges-1] {
		t.Fatalf("ranges %d pages %d last %v", len(im.Ranges), im.NumPages, im.Ranges[len(im.Ranges)-1])
	}
	if err := im.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field int
		v     uint32
		want  string
	}{
		{hdrNumExcluded, 1, fmt.Sprintf("snapshot: malformed header: %d captured and 1 excluded ranges do not fit the header", MaxRanges)},
		{hdrNumRanges, MaxRanges + 1, fmt.Sprintf("snapshot: malformed header: %d ranges", MaxRanges+1)},
	} {
		bad := append([]byte(nil), img...)
		binary.LittleEndian.PutUint32(bad[c.field:], c.v)
		if _, err := ReadImage(bytes.NewReader(bad), int64(len(bad))); err == nil || err.Error() != c.want {
			t.Errorf("field %d = %d: %v, want %q", c.field, c.v, err, c.want)
		}
	}
}

// TestReadImageHeaderOnly: storage holding exactly the header (fixed part
// and ranges) is parsed as far as its layout, then found shorter than it.
func TestReadImageHeaderOnly(t *testing.T) {
	img, l := buildImage(t, 4096, []Range{{Base: 0, Size: 0x4000}}, 0, fillRand(2))
	n := int64(headerLen(1, 0))
	_, err := ReadImage(bytes.NewReader(img[:n]), n)
	want := fmt.Sprintf("snapshot: image shorter than its layout: %d bytes, layout needs %d", n, l.Size)
	if !errors.Is(err, ErrTruncated) || err.Error() != want {
		t.Fatalf("err %v, want %q", err, want)
	}
}

// readLog is an io.ReaderAt over b that records the end of the furthest
// read.
type readLog struct {
	b   []byte
	mu  sync.Mutex
	end int64
}

func (r *readLog) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.end = max(r.end, off+int64(len(p)))
	r.mu.Unlock()
	return bytes.NewReader(r.b).ReadAt(p, off)
}

// TestReadImageReadsHeaderAndMap: ReadImage reads the header and the words
// of the copy map that hold the pages, nothing of the scratch page, data or
// manifest (on a large image those are most of the storage).
func TestReadImageReadsHeaderAndMap(t *testing.T) {
	for _, pages := range []uint64{1, 4, 33, 64} {
		img, l := buildImage(t, 4096, []Range{{Base: 0x100000, Size: pages * 4096}}, 0, fillRand(4))
		r := &readLog{b: img}
		im, err := ReadImage(r, int64(len(img)))
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(l.MapOff + (pages+31)/32*8); r.end != want {
			t.Errorf("%d pages: read up to %d, want %d (the map's %d words)", pages, r.end, want, (pages+31)/32)
		}
		if im.CopiedPages() != pages || !im.Complete() {
			t.Errorf("%d pages: %d copied, complete %v", pages, im.CopiedPages(), im.Complete())
		}
		binary.LittleEndian.PutUint32(img[hdrState:], uint32(StateCapturing))
		// First map word: page 0 copied, page 1 being drained (C and B set),
		// pages 2-31 uncopied; the second word (pages 32-63) unchanged.
		binary.LittleEndian.PutUint64(img[l.MapOff:], 1|1<<1|1<<(32+1))
		want := 1 + max(pages, 32) - 32
		if im, err = ReadImage(r, int64(len(img))); err != nil || im.Complete() || im.CopiedPages() != want {
			t.Errorf("%d pages, capturing: %v, complete %v, %d copied", pages, err, im.Complete(), im.CopiedPages())
		}
	}
}

// TestPagesOf: the 4 KiB pages covering n bytes at p, for every alignment
// of the first and last byte.
func TestPagesOf(t *testing.T) {
	b := make([]byte, 4*4096)
	first := (uint64(uintptr(unsafe.Pointer(&b[0]))) + 4095) &^ 4095
	k := int(first - uint64(uintptr(unsafe.Pointer(&b[0]))))
	for _, c := range []struct {
		off, n     int
		base, size uint64
	}{
		{0, 4096, 0, 4096}, {0, 1, 0, 4096}, {1, 4095, 0, 4096}, {1, 4096, 0, 8192},
		{4095, 2, 0, 8192}, {4096, 4096, 4096, 4096}, {0, 0, 0, 0}, {100, 8000, 0, 8192},
	} {
		got := pagesOf(unsafe.Pointer(&b[k+c.off]), uintptr(c.n))
		if want := (Range{Base: first + c.base, Size: c.size}); got != want {
			t.Errorf("pagesOf(page+%d, %d) = %v, want %v", c.off, c.n, got, want)
		}
	}
}

// bigHash is a hash state of 64 KiB.
type bigHash struct {
	hash.Hash
	pad [64 << 10]byte
}

// TestOwned: Owned covers every byte of the Snapshot value, its buffers
// and its two hash states, with whole pages, and no page holding none of
// them.
func TestOwned(t *testing.T) {
	// The root hash state is a large object (its own pages, away from the
	// others), so that leaving the hash states out shows.
	s := &Snapshot{root: &bigHash{Hash: sha256.New()}, page: sha256.New(), buf: make([]byte, 4096), sum: make([]byte, HashSize), hdr: make([]byte, MinPageSize)}
	type obj struct{ p, n uint64 }
	objs := []obj{
		{uint64(uintptr(unsafe.Pointer(s))), uint64(unsafe.Sizeof(*s))},
		{uint64(uintptr(unsafe.Pointer(&s.buf[0]))), 4096},
		{uint64(uintptr(unsafe.Pointer(&s.sum[0]))), HashSize},
		{uint64(uintptr(unsafe.Pointer(&s.hdr[0]))), MinPageSize},
	}
	for _, h := range []any{s.root, s.page} {
		v := reflect.ValueOf(h)
		objs = append(objs, obj{uint64(uintptr(v.UnsafePointer())), uint64(v.Type().Elem().Size())})
	}
	rs := s.Owned()
	in := func(a uint64) bool {
		for _, r := range rs {
			if r.Contains(a) {
				return true
			}
		}
		return false
	}
	for i, o := range objs {
		if !in(o.p) || !in(o.p+o.n-1) {
			t.Errorf("object %d [%#x, %#x) not covered by %v", i, o.p, o.p+o.n, rs)
		}
	}
	for _, r := range rs {
		if r.Base%4096 != 0 || r.Size%4096 != 0 || r.Size == 0 {
			t.Errorf("range %v not whole pages", r)
		}
		for pg := r.Base; pg < r.End(); pg += 4096 {
			used := false
			for _, o := range objs {
				used = used || o.p < pg+4096 && pg < o.p+o.n
			}
			if !used {
				t.Errorf("page %#x of %v holds none of the objects", pg, r)
			}
		}
	}
}
