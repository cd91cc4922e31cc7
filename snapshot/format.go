package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"golang.org/x/crypto/blake2b"
	"hash"
	"io"
)

// Errors returned by ReadImage, (*Image).Verify and (*Image).Page. Page-level
// errors are wrapped in a *PageError that carries the page address; test with
// errors.Is and errors.As.
var (
	ErrBadMagic     = errors.New("snapshot: bad magic (not a pagesnap image)")
	ErrVersion      = errors.New("snapshot: unsupported format version")
	ErrHashAlg      = errors.New("snapshot: unsupported hash algorithm")
	ErrBadHeader    = errors.New("snapshot: malformed header")
	ErrTruncated    = errors.New("snapshot: image shorter than its layout")
	ErrIncomplete   = errors.New("snapshot: snapshot incomplete")
	ErrHashMismatch = errors.New("snapshot: page hash mismatch")
	ErrRootMismatch = errors.New("snapshot: root hash mismatch")
	ErrNotCaptured  = errors.New("snapshot: address not in a captured range")
)

// PageError reports an error about one page of an image.
type PageError struct {
	Addr uint64 // physical address of the page
	Err  error  // ErrIncomplete, ErrHashMismatch, ErrNotCaptured or an I/O error
	// Reason is why the page was left out (Err ErrNotCaptured, the page in
	// an excluded range); 0 if it is not in one (not RAM to the kernel).
	Reason Reason
}

func (e *PageError) Error() string {
	if e.Reason != 0 {
		return fmt.Sprintf("%v (page %#x, excluded: %v)", e.Err, e.Addr, e.Reason)
	}
	return fmt.Sprintf("%v (page %#x)", e.Err, e.Addr)
}

// Unwrap returns e.Err.
func (e *PageError) Unwrap() error { return e.Err }

// HashAlgs lists the page and root hash algorithms the format knows
// (header field HashAlg), each one NewHash accepts.
var HashAlgs = []uint32{HashSHA256, HashBLAKE2b256}

// NewHash returns a new digest of the page and root hash algorithm alg
// (header field HashAlg): SHA-256 for HashSHA256 (crypto/sha256),
// BLAKE2b-256 for HashBLAKE2b256 (golang.org/x/crypto/blake2b: AVX2
// assembly on amd64 when the CPU and XCR0 allow it, else Go); any other
// value fails with ErrHashAlg. Both are cryptographic 32-byte digests, so
// the root hash commits to every page's content either way (the kernel
// prints it; see the package doc).
func NewHash(alg uint32) (hash.Hash, error) {
	switch alg {
	case HashSHA256:
		return sha256.New(), nil
	case HashBLAKE2b256:
		return blake2b.New256(nil)
	}
	return nil, fmt.Errorf("%w %d", ErrHashAlg, alg)
}

// HashName returns the name of hash algorithm alg ("SHA-256",
// "BLAKE2b-256"), or "hash algorithm N" for an unknown one.
func HashName(alg uint32) string {
	switch alg {
	case HashSHA256:
		return "SHA-256"
	case HashBLAKE2b256:
		return "BLAKE2b-256"
	}
	return fmt.Sprintf("hash algorithm %d", alg)
}

// KernelHashAlg is the hash algorithm the pagesnap kernel of architecture
// goarch ("amd64", "arm64") sets in Config.HashAlg: the faster one on that
// CPU under QEMU, by the kernel's "bench hash" (guest instructions per
// 4 KiB page under -icount, 2026-12-07). On arm64 Go's SHA-256 uses the
// SHA2 instructions (ID_AA64ISAR0_EL1.SHA2): 7,056, against 83,504 for
// BLAKE2b-256 (x/crypto's Go code there). On amd64 the runtime enables the
// AVX state (XCR0), and QEMU's TCG offers AVX2 but no SHA-NI:
// x/crypto's BLAKE2b-256 AVX2 code takes 22,028, Go's SHA-256 AVX2 code
// 128,604 (also measured: SHA-512/256 AVX2 95,477, x/crypto's BLAKE2s-256
// 40,959, plain-Go BLAKE2b-256 65,274). Without AVX (-cpu max,-xsave)
// SHA-256's generic code takes 335,041 and x/crypto's BLAKE2b-256 SSE4.1
// code 44,687: BLAKE2b-256 either way.
func KernelHashAlg(goarch string) uint32 {
	if goarch == "amd64" {
		return HashBLAKE2b256
	}
	return HashSHA256
}

// Image is a snapshot image read back from storage (a memory dump of the
// storage region, a file, a block device).
type Image struct {
	Version  uint32  // format version (Version)
	HashAlg  uint32  // HashSHA256 or HashBLAKE2b256
	PageSize uint64  // bytes per page
	Ranges   []Range // captured physical ranges, sorted
	// Excluded lists the RAM left out of the image and why, sorted.
	Excluded []Exclusion
	NumPages uint64 // pages in all Ranges
	State    State  // state recorded in the header
	Instant  uint64 // caller-defined time of the snapshot instant (Config.Instant)
	Layout   Layout // offsets of each part of the image

	r      io.ReaderAt
	header []byte   // the headerLen bytes covered by the root hash
	words  []uint64 // copy map
}

// ReadImage parses the header and copy map of the image of size bytes in r.
// It checks the header's consistency, not the page data (see Verify).
func ReadImage(r io.ReaderAt, size int64) (*Image, error) {
	hdr := make([]byte, hdrRanges)
	if size < int64(len(hdr)) {
		return nil, fmt.Errorf("%w: %d bytes", ErrTruncated, size)
	}
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("snapshot: reading header: %w", err)
	}
	if !bytes.Equal(hdr[hdrMagic:hdrMagic+8], []byte(Magic)) {
		return nil, ErrBadMagic
	}
	le := binary.LittleEndian
	im := &Image{
		Version:  le.Uint32(hdr[hdrVersion:]),
		HashAlg:  le.Uint32(hdr[hdrHashAlg:]),
		PageSize: le.Uint64(hdr[hdrPageSize:]),
		NumPages: le.Uint64(hdr[hdrNumPages:]),
		State:    State(le.Uint32(hdr[hdrState:])),
		Instant:  le.Uint64(hdr[hdrInstant:]),
		r:        r,
	}
	if im.Version != Version {
		return nil, fmt.Errorf("%w %d (this reader knows only version %d)", ErrVersion, im.Version, Version)
	}
	if _, err := NewHash(im.HashAlg); err != nil {
		return nil, err
	}
	if im.State < StateCapturing || im.State > StateDiscarded {
		return nil, fmt.Errorf("%w: state %d", ErrBadHeader, uint32(im.State))
	}
	n := le.Uint32(hdr[hdrNumRanges:])
	if n == 0 || n > MaxRanges {
		return nil, fmt.Errorf("%w: %d ranges", ErrBadHeader, n)
	}
	x := le.Uint32(hdr[hdrNumExcluded:])
	if x > MinPageSize/exclusionLen || headerLen(int(n), int(x)) > MinPageSize {
		return nil, fmt.Errorf("%w: %d captured and %d excluded ranges do not fit the header", ErrBadHeader, n, x)
	}
	if le.Uint32(hdr[hdrReserved:]) != 0 {
		return nil, fmt.Errorf("%w: reserved field %#x not zero", ErrBadHeader, le.Uint32(hdr[hdrReserved:]))
	}
	full := make([]byte, headerLen(int(n), int(x)))
	if size < int64(len(full)) {
		return nil, fmt.Errorf("%w: %d bytes", ErrTruncated, size)
	}
	if _, err := r.ReadAt(full, 0); err != nil {
		return nil, fmt.Errorf("snapshot: reading header: %w", err)
	}
	rs := make([]Range, n)
	for i := range rs {
		rs[i] = Range{Base: le.Uint64(full[hdrRanges+16*i:]), Size: le.Uint64(full[hdrRanges+16*i+8:])}
	}
	l, err := NewLayout(im.PageSize, rs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	xs := make([]Exclusion, x)
	for i := range xs {
		o := hdrRanges + 16*int(n) + exclusionLen*i
		xs[i] = Exclusion{Range{Base: le.Uint64(full[o:]), Size: le.Uint64(full[o+8:])}, Reason(le.Uint32(full[o+16:]))}
		if pad := le.Uint32(full[o+20:]); pad != 0 {
			return nil, fmt.Errorf("%w: excluded range %d: padding %#x not zero", ErrBadHeader, i, pad)
		}
	}
	if err := checkExcluded(im.PageSize, l.Ranges, xs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	l.Excluded, l.HashAlg = xs, im.HashAlg
	if l.NumPages != im.NumPages || l.MapOff != le.Uint64(full[hdrMapOff:]) ||
		l.ScratchOff != le.Uint64(full[hdrScratchOff:]) || l.DataOff != le.Uint64(full[hdrDataOff:]) ||
		l.ManifestOff != le.Uint64(full[hdrManifestOff:]) || l.Size != le.Uint64(full[hdrSize:]) {
		return nil, fmt.Errorf("%w: recorded offsets disagree with the layout of %d pages", ErrBadHeader, l.NumPages)
	}
	if uint64(size) < l.Size {
		return nil, fmt.Errorf("%w: %d bytes, layout needs %d", ErrTruncated, size, l.Size)
	}
	im.Ranges, im.Excluded, im.Layout, im.header = l.Ranges, l.Excluded, l, full
	mb := make([]byte, (l.NumPages+31)/32*8)
	if _, err := r.ReadAt(mb, int64(l.MapOff)); err != nil {
		return nil, fmt.Errorf("snapshot: reading copy map: %w", err)
	}
	im.words = make([]uint64, len(mb)/8)
	for i := range im.words {
		im.words[i] = le.Uint64(mb[8*i:])
	}
	return im, nil
}

// Exclusion returns the excluded range containing addr, if any.
func (im *Image) Exclusion(addr uint64) (Exclusion, bool) {
	for _, e := range im.Excluded {
		if e.Contains(addr) {
			return e, true
		}
	}
	return Exclusion{}, false
}

// Complete reports whether the header says the snapshot completed.
func (im *Image) Complete() bool { return im.State == StateComplete }

// Copied reports whether the page containing addr was captured and its data
// is valid in the image (copy-map state "copied").
func (im *Image) Copied(addr uint64) bool {
	i, ok := im.Layout.PageIndex(addr)
	return ok && im.copiedIndex(i)
}

func (im *Image) copiedIndex(i uint64) bool {
	return pageState(im.words[i/32], uint(i%32)) == pageCopied
}

// CopiedPages returns the number of pages whose data is valid.
func (im *Image) CopiedPages() uint64 {
	var n uint64
	for i := uint64(0); i < im.NumPages; i++ {
		if im.copiedIndex(i) {
			n++
		}
	}
	return n
}

// Page returns the snapshot content of the page containing addr. It fails
// with a *PageError wrapping ErrNotCaptured if addr is outside the captured
// ranges (its Reason says why if the header lists it as excluded), or
// ErrIncomplete if the page was never copied. Page does not check
// hashes; call Verify once for that.
func (im *Image) Page(addr uint64) ([]byte, error) {
	i, ok := im.Layout.PageIndex(addr)
	pa := addr &^ (im.PageSize - 1)
	if !ok {
		e, _ := im.Exclusion(pa)
		return nil, &PageError{pa, ErrNotCaptured, e.Reason}
	}
	if !im.copiedIndex(i) {
		return nil, &PageError{Addr: pa, Err: ErrIncomplete}
	}
	return im.pageData(i)
}

func (im *Image) pageData(i uint64) ([]byte, error) {
	b := make([]byte, im.PageSize)
	if _, err := im.r.ReadAt(b, int64(im.Layout.DataOff+i*im.PageSize)); err != nil {
		return nil, &PageError{Addr: im.Layout.PageAddr(i), Err: err}
	}
	return b, nil
}

// RootHash returns the root hash recorded in the manifest.
func (im *Image) RootHash() ([HashSize]byte, error) {
	var h [HashSize]byte
	_, err := im.r.ReadAt(h[:], int64(im.Layout.ManifestOff+im.NumPages*HashSize))
	return h, err
}

// Verify checks the whole image: the header says complete (else
// ErrIncomplete), every page is copied (else a *PageError wrapping
// ErrIncomplete), every page's hash (the header's algorithm, HashAlg)
// matches the manifest (else a *PageError wrapping ErrHashMismatch) and
// the root hash matches (ErrRootMismatch). The root hash is the same
// algorithm over the header bytes [0, 128+16*len(Ranges)+24*len(Excluded))
// with the 4-byte state field zeroed, followed by the NumPages page hashes
// in page-index order.
func (im *Image) Verify() error {
	if im.State != StateComplete {
		return fmt.Errorf("%w: header state %v", ErrIncomplete, im.State)
	}
	root, err := NewHash(im.HashAlg)
	if err != nil {
		return err
	}
	page, _ := NewHash(im.HashAlg)
	got := make([]byte, 0, HashSize)
	h := append([]byte(nil), im.header...)
	clear(h[hdrState : hdrState+4])
	root.Write(h)
	want := make([]byte, HashSize)
	for i := uint64(0); i < im.NumPages; i++ {
		addr := im.Layout.PageAddr(i)
		if !im.copiedIndex(i) {
			return &PageError{Addr: addr, Err: ErrIncomplete}
		}
		b, err := im.pageData(i)
		if err != nil {
			return err
		}
		if _, err := im.r.ReadAt(want, int64(im.Layout.ManifestOff+i*HashSize)); err != nil {
			return &PageError{Addr: addr, Err: err}
		}
		page.Reset()
		page.Write(b)
		got = page.Sum(got[:0])
		if !bytes.Equal(got, want) {
			return &PageError{Addr: addr, Err: ErrHashMismatch}
		}
		root.Write(want)
	}
	rh, err := im.RootHash()
	if err != nil {
		return fmt.Errorf("snapshot: reading root hash: %w", err)
	}
	if !bytes.Equal(root.Sum(nil), rh[:]) {
		return ErrRootMismatch
	}
	return nil
}
