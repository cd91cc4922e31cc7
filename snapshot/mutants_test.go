package snapshot

// Tests added for the survivors of the mutation run (MUTANTS.md): each
// pins an exact result a mutant changed without any other test noticing.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
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
		if im.CopiedPages() != pages {
			t.Errorf("%d pages: %d copied", pages, im.CopiedPages())
		}
	}
}
