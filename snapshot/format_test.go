package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// buildImage builds a complete image of the given pages in the storage format.
func buildImage(t testing.TB, ps uint64, rs []Range, instant uint64, fill func(addr uint64, b []byte)) ([]byte, Layout) {
	t.Helper()
	return buildImageEx(t, ps, rs, nil, instant, fill)
}

// buildImageEx is buildImage with excluded ranges in the header.
func buildImageEx(t testing.TB, ps uint64, rs []Range, ex []Exclusion, instant uint64, fill func(addr uint64, b []byte)) ([]byte, Layout) {
	t.Helper()
	l, err := NewLayout(ps, rs)
	if err != nil {
		t.Fatal(err)
	}
	l.Excluded = ex
	img := make([]byte, l.Size)
	hdr := l.encodeHeader(StateComplete, instant)
	copy(img, hdr)
	root := sha256.New()
	h := append([]byte(nil), hdr...)
	clear(h[hdrState : hdrState+4])
	root.Write(h)
	for i := uint64(0); i < l.NumPages; i++ {
		w := binary.LittleEndian.Uint64(img[l.MapOff+i/32*8:])
		binary.LittleEndian.PutUint64(img[l.MapOff+i/32*8:], withState(w, uint(i%32), pageCopied))
		pg := img[l.DataOff+i*ps : l.DataOff+(i+1)*ps]
		fill(l.PageAddr(i), pg)
		sum := sha256.Sum256(pg)
		copy(img[l.ManifestOff+i*HashSize:], sum[:])
		root.Write(sum[:])
	}
	copy(img[l.ManifestOff+l.NumPages*HashSize:], root.Sum(nil))
	return img, l
}

func fillRand(seed uint64) func(uint64, []byte) {
	return func(addr uint64, b []byte) {
		r := rand.New(rand.NewPCG(seed, addr))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
}

func TestImageRoundTrip(t *testing.T) {
	rs := []Range{{Base: 0x1000, Size: 0x3000}, {Base: 0x100000, Size: 0x2000}}
	img, l := buildImage(t, 4096, rs, 42, fillRand(1))
	im, err := ReadImage(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	if im.PageSize != 4096 || im.NumPages != 5 || im.Instant != 42 || len(im.Ranges) != 2 || im.Ranges[1] != rs[1] {
		t.Fatalf("header fields: %+v", im)
	}
	if err := im.Verify(); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 4096)
	fillRand(1)(0x101000, want)
	got, err := im.Page(0x101234)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Page(0x101234) = %v, content equal %v", err, bytes.Equal(got, want))
	}
	var pe *PageError
	if _, err := im.Page(0x5000); !errors.As(err, &pe) || !errors.Is(err, ErrNotCaptured) || pe.Addr != 0x5000 {
		t.Fatalf("Page(0x5000) err = %v", err)
	}
	if !im.Copied(0x3fff) || im.Copied(0x4000) {
		t.Fatal("Copied wrong")
	}

	// Flip one data byte in page 0x2000: hash mismatch naming that page.
	bad := append([]byte(nil), img...)
	bad[l.DataOff+1*4096+77] ^= 1
	im2, _ := ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if err := im2.Verify(); !errors.As(err, &pe) || !errors.Is(err, ErrHashMismatch) || pe.Addr != 0x2000 {
		t.Fatalf("corrupted page: err = %v", err)
	}
	// Flip a manifest byte of the last page: that page mismatches.
	bad = append([]byte(nil), img...)
	bad[l.ManifestOff+4*HashSize] ^= 0x80
	im2, _ = ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if err := im2.Verify(); !errors.As(err, &pe) || !errors.Is(err, ErrHashMismatch) || pe.Addr != 0x101000 {
		t.Fatalf("corrupted manifest: err = %v", err)
	}
	// Corrupt the root.
	bad = append([]byte(nil), img...)
	bad[l.ManifestOff+5*HashSize+3] ^= 1
	im2, _ = ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if err := im2.Verify(); !errors.Is(err, ErrRootMismatch) {
		t.Fatalf("corrupted root: err = %v", err)
	}
	// Instant is covered by the root hash.
	bad = append([]byte(nil), img...)
	bad[hdrInstant] ^= 1
	im2, _ = ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if err := im2.Verify(); !errors.Is(err, ErrRootMismatch) {
		t.Fatalf("corrupted instant: err = %v", err)
	}
	// Uncopied page.
	bad = append([]byte(nil), img...)
	bad[l.MapOff] &^= 1 << 2
	im2, _ = ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if err := im2.Verify(); !errors.As(err, &pe) || !errors.Is(err, ErrIncomplete) || pe.Addr != 0x3000 {
		t.Fatalf("uncopied page: err = %v", err)
	}
	if _, err := im2.Page(0x3000); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Page of uncopied: %v", err)
	}
	// Busy bit set: not copied.
	bad = append([]byte(nil), img...)
	bad[l.MapOff+4] |= 1
	im2, _ = ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if im2.Copied(0x1000) || !im2.Copied(0x2000) {
		t.Fatal("busy page reported copied")
	}
	// State capturing.
	bad = append([]byte(nil), img...)
	binary.LittleEndian.PutUint32(bad[hdrState:], uint32(StateCapturing))
	im2, _ = ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if err := im2.Verify(); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("capturing: err = %v", err)
	}
}

func TestReadImageErrors(t *testing.T) {
	img, _ := buildImage(t, 4096, []Range{{Base: 0, Size: 0x4000}}, 0, fillRand(2))
	mod := func(f func(b []byte)) []byte { b := append([]byte(nil), img...); f(b); return b }
	cases := []struct {
		name string
		b    []byte
		size int64
		want error
	}{
		{"magic", mod(func(b []byte) { b[0] = 'X' }), int64(len(img)), ErrBadMagic},
		{"version", mod(func(b []byte) { b[hdrVersion] = 9 }), int64(len(img)), ErrVersion},
		{"hashalg", mod(func(b []byte) { b[hdrHashAlg] = 7 }), int64(len(img)), ErrHashAlg},
		{"state", mod(func(b []byte) { b[hdrState] = 0 }), int64(len(img)), ErrBadHeader},
		{"nranges", mod(func(b []byte) { b[hdrNumRanges] = 0 }), int64(len(img)), ErrBadHeader},
		{"pagesize", mod(func(b []byte) { b[hdrPageSize+1] = 0x20 }), int64(len(img)), ErrBadHeader},
		{"numpages", mod(func(b []byte) { b[hdrNumPages] = 3 }), int64(len(img)), ErrBadHeader},
		{"dataoff", mod(func(b []byte) { b[hdrDataOff+1]++ }), int64(len(img)), ErrBadHeader},
		{"unaligned range", mod(func(b []byte) { b[hdrRanges] = 1 }), int64(len(img)), ErrBadHeader},
		{"truncated", img, int64(len(img)) - 1, ErrTruncated},
		// Exactly the fixed header: its fields are checked before the
		// ranges are found missing.
		{"fixed header, bad magic", mod(func(b []byte) { b[0] = 'X' })[:hdrRanges], hdrRanges, ErrBadMagic},
		{"fixed header only", img[:hdrRanges], hdrRanges, ErrTruncated},
		{"header without exclusions' room", img[:hdrRanges+16], hdrRanges + 16, ErrTruncated},
		{"tiny", img[:10], 10, ErrTruncated},
	}
	for _, c := range cases {
		_, err := ReadImage(bytes.NewReader(c.b[:min(int64(len(c.b)), c.size)]), c.size)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestLayout(t *testing.T) {
	l, err := NewLayout(4096, []Range{{Base: 0, Size: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1 << 18
	if l.NumPages != n || l.MapOff != 4096 || l.MapSize != n/32*8 || l.ScratchOff != 4096+n/4 ||
		l.DataOff != l.ScratchOff+4096 || l.ManifestOff != l.DataOff+n*4096 ||
		l.Size != l.ManifestOff+roundUp((n+1)*32, 4096) {
		t.Fatalf("layout %+v", l)
	}
	bad := [][]Range{
		nil,
		{{Base: 0, Size: 0}},
		{{Base: 0x800, Size: 0x1000}},
		{{Base: 0x1000, Size: 0x1800}},
		{{Base: 0x2000, Size: 0x1000}, {Base: 0x1000, Size: 0x1000}},
		{{Base: 0x1000, Size: 0x2000}, {Base: 0x2000, Size: 0x1000}},
		{{Base: ^uint64(0) &^ 0xfff, Size: 0x2000}},
		{{Base: MaxPhysAddr - 0x1000, Size: 0x2000}},
	}
	for _, rs := range bad {
		if _, err := NewLayout(4096, rs); !errors.Is(err, ErrRanges) {
			t.Errorf("NewLayout(%v) err = %v, want ErrRanges", rs, err)
		}
	}
	if _, err := NewLayout(8192+4096, []Range{{Base: 0, Size: 0x10000}}); !errors.Is(err, ErrPageSize) {
		t.Errorf("page size err = %v", err)
	}
	if _, err := NewLayout(65536, []Range{{Base: 0, Size: 0x20000}}); err != nil {
		t.Errorf("64K pages: %v", err)
	}
}

func TestPageStateEncoding(t *testing.T) {
	var w uint64
	for i := uint(0); i < 32; i++ {
		w = withState(w, i, uint64(i%4))
	}
	for i := uint(0); i < 32; i++ {
		if s := pageState(w, i); s != uint64(i%4) {
			t.Fatalf("page %d state %d", i, s)
		}
	}
}

// FuzzReadImage: arbitrary images must be refused with an error or read,
// never panic or allocate beyond their size.
func FuzzReadImage(f *testing.F) {
	img, _ := buildImage(f, 4096, []Range{{Base: 0x1000, Size: 0x2000}}, 1, fillRand(3))
	f.Add(img)
	f.Add(img[:200])
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := ReadImage(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if im.Layout.Size > uint64(len(b)) {
			t.Fatalf("accepted an image shorter (%d) than its layout (%d)", len(b), im.Layout.Size)
		}
		im.Verify()
		for _, r := range im.Ranges {
			im.Page(r.Base)
			im.Copied(r.End() - 1)
		}
	})
}

// TestExcludedInHeader: format 2's excluded ranges, read back exactly,
// covered by the root hash, and every malformed variant refused.
func TestExcludedInHeader(t *testing.T) {
	rs := []Range{{Base: 0x1000, Size: 0x3000}, {Base: 0x100000, Size: 0x2000}}
	ex := []Exclusion{{Range{Base: 0, Size: 0x1000}, ReasonPageZero}, {Range{Base: 0x4000, Size: 0xc000}, ReasonReserved},
		{Range{Base: 0x10000, Size: 0x10000}, ReasonStorage}, {Range{Base: 0x102000, Size: 0x1000}, ReasonUnused}}
	img, _ := buildImageEx(t, 4096, rs, ex, 5, fillRand(4))
	im, err := ReadImage(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(im.Excluded, ex) || !slices.Equal(im.Layout.Excluded, ex) || im.Version != 2 {
		t.Fatalf("excluded %v version %d", im.Excluded, im.Version)
	}
	if err := im.Verify(); err != nil {
		t.Fatal(err)
	}
	x := hdrRanges + 16*len(rs) // first exclusion
	le := binary.LittleEndian
	if le.Uint32(img[hdrNumExcluded:]) != 4 || le.Uint64(img[x+24:]) != 0x4000 || le.Uint64(img[x+32:]) != 0xc000 ||
		le.Uint32(img[x+40:]) != 2 {
		t.Fatalf("encoding: % x", img[hdrNumExcluded:x+48])
	}
	for _, e := range []struct {
		addr uint64
		r    Reason
	}{{0, ReasonPageZero}, {0xfff, ReasonPageZero}, {0x4000, ReasonReserved}, {0xffff, ReasonReserved},
		{0x10000, ReasonStorage}, {0x102fff, ReasonUnused}, {0x103000, 0}, {0x20000, 0}} {
		got, ok := im.Exclusion(e.addr)
		if ok != (e.r != 0) || got.Reason != e.r {
			t.Errorf("Exclusion(%#x) = %v %v, want %v", e.addr, got, ok, e.r)
		}
		var pe *PageError
		if _, err := im.Page(e.addr); !errors.As(err, &pe) || pe.Reason != e.r || pe.Err != ErrNotCaptured {
			t.Errorf("Page(%#x): %v", e.addr, err)
		}
	}
	// The exclusions are covered by the root hash.
	bad := append([]byte(nil), img...)
	bad[x+40] = 4
	im2, err := ReadImage(bytes.NewReader(bad), int64(len(bad)))
	if err != nil {
		t.Fatal(err)
	}
	if err := im2.Verify(); !errors.Is(err, ErrRootMismatch) {
		t.Fatalf("changed reason: %v", err)
	}
	mod := func(f func(b []byte)) []byte { b := append([]byte(nil), img...); f(b); return b }
	for _, c := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"version 1", mod(func(b []byte) { b[hdrVersion] = 1 }), ErrVersion,
			"snapshot: unsupported format version 1 (this reader knows only version 2)"},
		{"version 3", mod(func(b []byte) { b[hdrVersion] = 3 }), ErrVersion, ""},
		{"state 5", mod(func(b []byte) { b[hdrState] = 5 }), ErrBadHeader, "snapshot: malformed header: state 5"},
		{"reserved", mod(func(b []byte) { b[hdrReserved+3] = 1 }), ErrBadHeader, "snapshot: malformed header: reserved field 0x1000000 not zero"},
		{"padding", mod(func(b []byte) { b[x+24+20] = 1 }), ErrBadHeader, "snapshot: malformed header: excluded range 1: padding 0x1 not zero"},
		{"reason 0", mod(func(b []byte) { b[x+16] = 0 }), ErrRanges, "snapshot: malformed header: snapshot: invalid ranges: excluded range 0 [0x0, 0x1000): unknown reason 0"},
		{"reason 5", mod(func(b []byte) { b[x+16] = 5 }), ErrRanges, ""},
		{"overlaps captured", mod(func(b []byte) { b[x+9] = 0x20 }), ErrRanges,
			"snapshot: malformed header: snapshot: invalid ranges: excluded range 0 [0x0, 0x2000) overlaps captured range [0x1000, 0x4000)"},
		{"unsorted", mod(func(b []byte) { b[x+24+1] = 0 }), ErrRanges, ""},
		{"unaligned", mod(func(b []byte) { b[x+24] = 8 }), ErrRanges, ""},
		{"one too many", mod(func(b []byte) { b[hdrNumExcluded] = byte((MinPageSize-hdrRanges-16*2)/exclusionLen + 1) }), ErrBadHeader,
			"snapshot: malformed header: 2 captured and 165 excluded ranges do not fit the header"},
		{"huge count", mod(func(b []byte) { b[hdrNumExcluded+3] = 0x80 }), ErrBadHeader, ""},
	} {
		_, err := ReadImage(bytes.NewReader(c.b), int64(len(c.b)))
		if !errors.Is(err, c.want) || (c.want == ErrRanges && !errors.Is(err, ErrBadHeader)) || (c.msg != "" && err.Error() != c.msg) {
			t.Errorf("%s: err %v, want %v %q", c.name, err, c.want, c.msg)
		}
	}
	// Exactly as many exclusions as fit are accepted.
	many := make([]Exclusion, (MinPageSize-hdrRanges-16)/exclusionLen)
	for i := range many {
		many[i] = Exclusion{Range{Base: 0x100000 + uint64(i)*0x2000, Size: 0x1000}, ReasonUnused}
	}
	img, _ = buildImageEx(t, 4096, []Range{{Base: 0, Size: 0x1000}}, many, 0, fillRand(5))
	if im, err := ReadImage(bytes.NewReader(img), int64(len(img))); err != nil || len(im.Excluded) != 164 {
		t.Fatalf("164 exclusions: %v", err)
	}
	if err := checkExcluded(4096, []Range{{Base: 0, Size: 0x1000}}, append(many, Exclusion{Range{Base: 0x800000, Size: 0x1000}, ReasonUnused})); !errors.Is(err, ErrRanges) {
		t.Fatalf("165 exclusions: %v", err)
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{StateCapturing.String(), "capturing"}, {StateComplete.String(), "complete"},
		{StateAborted.String(), "aborted"}, {StateDiscarded.String(), "discarded"}, {State(9).String(), "State(9)"},
		{ReasonPageZero.String(), "page zero"}, {ReasonReserved.String(), "reserved"}, {ReasonStorage.String(), "storage"},
		{ReasonUnused.String(), "unused"}, {Reason(7).String(), "Reason(7)"},
		{Exclusion{Range{Base: 0x1000, Size: 0x2000}, ReasonUnused}.String(), "[0x1000, 0x3000) unused"},
		{PhaseIdle.String(), "idle"}, {PhaseCapturing.String(), "capturing"}, {PhaseHashing.String(), "hashing"},
		{PhaseDone.String(), "done"}, {PhaseAborted.String(), "aborted"}, {Phase(17).String(), "aborted"},
		{(&PageError{Addr: 0x5000, Err: ErrIncomplete}).Error(), "snapshot: snapshot incomplete (page 0x5000)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
