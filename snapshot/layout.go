package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pagesnap/pagesnap/memrange"
)

// Storage format constants. See the package documentation for the layout.
const (
	// Magic opens every snapshot image.
	Magic = "PAGESNAP"
	// Version is the storage format version written and read by this
	// package (2: the header lists the excluded ranges; 1 did not).
	Version = 2
	// HashSHA256 identifies SHA-256 page and root hashes (header field HashAlg).
	HashSHA256 = 1
	// HashBLAKE2b256 identifies BLAKE2b-256 page and root hashes (RFC 7693,
	// unkeyed, 32-byte digest; golang.org/x/crypto/blake2b): the amd64
	// kernel's, see KernelHashAlg.
	HashBLAKE2b256 = 2
	// HashSize is the size in bytes of one manifest hash.
	HashSize = 32
	// MinPageSize is the smallest supported page size (the 4 KiB granule).
	MinPageSize = 4096
	// MaxRanges is the largest number of captured ranges one header holds
	// (with no excluded range: 16 bytes per captured and 24 per excluded
	// range share the header's MinPageSize-hdrRanges bytes).
	MaxRanges = (MinPageSize - hdrRanges) / 16
	// MaxPhysAddr bounds every range: 52-bit physical addresses (the
	// architectural maximum of amd64 and arm64). It also keeps every
	// layout offset free of overflow.
	MaxPhysAddr = 1 << 52
)

// Header field offsets (all integers little-endian).
const (
	hdrMagic       = 0  // [8]byte Magic
	hdrVersion     = 8  // uint32 Version
	hdrHashAlg     = 12 // uint32 HashSHA256 or HashBLAKE2b256
	hdrPageSize    = 16 // uint64
	hdrNumRanges   = 24 // uint32
	hdrState       = 28 // uint32 State
	hdrNumPages    = 32 // uint64
	hdrInstant     = 40 // uint64 caller-defined time of the snapshot instant
	hdrMapOff      = 48 // uint64
	hdrScratchOff  = 56 // uint64
	hdrDataOff     = 64 // uint64
	hdrManifestOff = 72 // uint64
	hdrSize        = 80 // uint64 total image size
	hdrNumExcluded = 88 // uint32 number of excluded ranges
	hdrReserved    = 92 // uint32, zero
	hdrRanges      = 128
	exclusionLen   = 24 // uint64 base, uint64 size, uint32 reason, uint32 zero
)

// State is the life-cycle state recorded in an image header.
type State uint32

// Image states.
const (
	StateCapturing State = 1 // Start done, copying in progress (or interrupted)
	StateComplete  State = 2 // every page copied, manifest written
	StateAborted   State = 3 // Abort was called before completion
	// StateDiscarded: the user released the image (Discard); its storage
	// may be overwritten and its content must not be trusted.
	StateDiscarded State = 4
)

func (s State) String() string {
	switch s {
	case StateCapturing:
		return "capturing"
	case StateComplete:
		return "complete"
	case StateAborted:
		return "aborted"
	case StateDiscarded:
		return "discarded"
	}
	return fmt.Sprintf("State(%d)", uint32(s))
}

// Range is a physical address range [Base, Base+Size) (package memrange's).
type Range = memrange.Range

// Reason says why an excluded range is not in the image.
type Reason uint32

// Reasons for excluding RAM from the image (header field of each excluded
// range). A reader refuses any other value.
const (
	// ReasonPageZero: page 0, left unmapped so that nil dereferences fault.
	ReasonPageZero Reason = 1
	// ReasonReserved: the snapshot machinery's reserved region (fault and
	// snapshot stacks, page tables, table pool), written while the
	// snapshot runs.
	ReasonReserved Reason = 2
	// ReasonStorage: the snapshot storage itself.
	ReasonStorage Reason = 3
	// ReasonUnused: RAM the running kernel does not use (e.g. past the
	// storage), so it holds nothing of the program.
	ReasonUnused Reason = 4

	maxReason = ReasonUnused
)

func (r Reason) String() string {
	switch r {
	case ReasonPageZero:
		return "page zero"
	case ReasonReserved:
		return "reserved"
	case ReasonStorage:
		return "storage"
	case ReasonUnused:
		return "unused"
	}
	return fmt.Sprintf("Reason(%d)", uint32(r))
}

// Exclusion is RAM deliberately left out of the image, and why. Addresses
// that are neither captured nor excluded are not RAM (or not known to the
// kernel as RAM).
type Exclusion struct {
	Range
	Reason Reason
}

func (e Exclusion) String() string { return fmt.Sprintf("%v %v", e.Range, e.Reason) }

// Layout gives the byte offsets, relative to the start of the storage, of each
// part of a snapshot image. It is a pure function of the page size and the
// captured ranges (see NewLayout).
type Layout struct {
	PageSize    uint64
	Ranges      []Range
	NumPages    uint64
	MapOff      uint64 // copy map: one uint64 word per 32 pages
	MapSize     uint64
	ScratchOff  uint64 // one page the drain uses as a bounce buffer
	DataOff     uint64 // page i at DataOff + i*PageSize
	ManifestOff uint64 // NumPages page hashes, then the root hash
	Size        uint64 // total storage needed
	// HashAlg is the page and root hash algorithm the header records
	// (HashSHA256, HashBLAKE2b256; 0 means HashSHA256). It moves no
	// offset: both digests are HashSize bytes.
	HashAlg uint32
	// Excluded lists the RAM left out of the image (header only: it
	// moves no offset). NewLayout leaves it empty; New sets it from
	// Config.Excluded and the storage.
	Excluded []Exclusion
}

// Errors for invalid layouts and configurations.
var (
	ErrPageSize = errors.New("snapshot: page size must be a power of two >= 4096")
	ErrRanges   = errors.New("snapshot: invalid ranges")
)

func roundUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }

// checkRanges validates page-aligned, non-empty, sorted, non-overlapping ranges.
func checkRanges(pageSize uint64, rs []Range, what string) error {
	for i, r := range rs {
		if r.Size == 0 {
			return fmt.Errorf("%w: %s range %d %v is empty", ErrRanges, what, i, r)
		}
		if r.Base%pageSize != 0 || r.Size%pageSize != 0 {
			return fmt.Errorf("%w: %s range %d %v not aligned to page size %#x", ErrRanges, what, i, r, pageSize)
		}
		if r.End() < r.Base || r.End() > MaxPhysAddr {
			return fmt.Errorf("%w: %s range %d %v beyond the 52-bit physical address space", ErrRanges, what, i, r)
		}
		if i > 0 && r.Base < rs[i-1].End() {
			return fmt.Errorf("%w: %s range %d %v overlaps or precedes range %d %v (ranges must be sorted, disjoint)",
				ErrRanges, what, i, r, i-1, rs[i-1])
		}
	}
	return nil
}

// NewLayout computes the storage layout for capturing ranges (sorted,
// disjoint, page-aligned) with the given page size.
func NewLayout(pageSize uint64, ranges []Range) (Layout, error) {
	if pageSize < MinPageSize || pageSize&(pageSize-1) != 0 {
		return Layout{}, fmt.Errorf("%w (got %#x)", ErrPageSize, pageSize)
	}
	if len(ranges) == 0 {
		return Layout{}, fmt.Errorf("%w: no captured range", ErrRanges)
	}
	if len(ranges) > MaxRanges {
		return Layout{}, fmt.Errorf("%w: %d captured ranges, at most %d", ErrRanges, len(ranges), MaxRanges)
	}
	if err := checkRanges(pageSize, ranges, "captured"); err != nil {
		return Layout{}, err
	}
	l := Layout{PageSize: pageSize, Ranges: append([]Range(nil), ranges...)}
	for _, r := range ranges {
		l.NumPages += r.Size / pageSize
	}
	l.MapOff = roundUp(MinPageSize, pageSize)
	l.MapSize = roundUp((l.NumPages+31)/32*8, pageSize)
	l.ScratchOff = l.MapOff + l.MapSize
	l.DataOff = l.ScratchOff + pageSize
	l.ManifestOff = l.DataOff + l.NumPages*pageSize
	l.Size = l.ManifestOff + roundUp((l.NumPages+1)*HashSize, pageSize)
	return l, nil
}

// PageIndex returns the index of the page containing addr, or false if addr is
// not captured.
func (l *Layout) PageIndex(addr uint64) (uint64, bool) {
	var base uint64
	for _, r := range l.Ranges {
		if r.Contains(addr) {
			return base + (addr-r.Base)/l.PageSize, true
		}
		base += r.Size / l.PageSize
	}
	return 0, false
}

// PageAddr returns the physical address of page index i (i < NumPages).
func (l *Layout) PageAddr(i uint64) uint64 {
	for _, r := range l.Ranges {
		n := r.Size / l.PageSize
		if i < n {
			return r.Base + i*l.PageSize
		}
		i -= n
	}
	return ^uint64(0)
}

// headerLen is the number of header bytes covered by the root hash.
func (l *Layout) headerLen() int { return headerLen(len(l.Ranges), len(l.Excluded)) }

// headerLen is the header size for r captured and x excluded ranges.
func headerLen(r, x int) int { return hdrRanges + 16*r + exclusionLen*x }

// checkExcluded validates excluded ranges: page-aligned, non-empty,
// sorted, disjoint, a known reason each, none overlapping a captured
// range, and room for them in the header.
func checkExcluded(pageSize uint64, captured []Range, ex []Exclusion) error {
	if headerLen(len(captured), len(ex)) > MinPageSize {
		return fmt.Errorf("%w: %d captured and %d excluded ranges do not fit the %d-byte header",
			ErrRanges, len(captured), len(ex), MinPageSize)
	}
	rs := make([]Range, len(ex))
	for i, e := range ex {
		if e.Reason == 0 || e.Reason > maxReason {
			return fmt.Errorf("%w: excluded range %d %v: unknown reason %d", ErrRanges, i, e.Range, uint32(e.Reason))
		}
		for _, c := range captured {
			if e.Overlaps(c) {
				return fmt.Errorf("%w: excluded range %d %v overlaps captured range %v", ErrRanges, i, e.Range, c)
			}
		}
		rs[i] = e.Range
	}
	return checkRanges(pageSize, rs, "excluded")
}

// encodeHeader returns the header bytes (headerLen long) for state and instant.
func (l *Layout) encodeHeader(state State, instant uint64) []byte {
	return l.encodeHeaderTo(make([]byte, l.headerLen()), state, instant)
}

// encodeHeaderTo encodes the header into b (headerLen bytes) without
// allocating, for the drain that may run where allocation is not allowed.
func (l *Layout) encodeHeaderTo(b []byte, state State, instant uint64) []byte {
	b = b[:l.headerLen()]
	clear(b)
	le := binary.LittleEndian
	copy(b[hdrMagic:], Magic)
	le.PutUint32(b[hdrVersion:], Version)
	le.PutUint32(b[hdrHashAlg:], l.hashAlg())
	le.PutUint64(b[hdrPageSize:], l.PageSize)
	le.PutUint32(b[hdrNumRanges:], uint32(len(l.Ranges)))
	le.PutUint32(b[hdrState:], uint32(state))
	le.PutUint64(b[hdrNumPages:], l.NumPages)
	le.PutUint64(b[hdrInstant:], instant)
	le.PutUint64(b[hdrMapOff:], l.MapOff)
	le.PutUint64(b[hdrScratchOff:], l.ScratchOff)
	le.PutUint64(b[hdrDataOff:], l.DataOff)
	le.PutUint64(b[hdrManifestOff:], l.ManifestOff)
	le.PutUint64(b[hdrSize:], l.Size)
	le.PutUint32(b[hdrNumExcluded:], uint32(len(l.Excluded)))
	for i, r := range l.Ranges {
		le.PutUint64(b[hdrRanges+16*i:], r.Base)
		le.PutUint64(b[hdrRanges+16*i+8:], r.Size)
	}
	x := hdrRanges + 16*len(l.Ranges)
	for i, e := range l.Excluded {
		o := x + exclusionLen*i
		le.PutUint64(b[o:], e.Base)
		le.PutUint64(b[o+8:], e.Size)
		le.PutUint32(b[o+16:], uint32(e.Reason))
	}
	return b
}

// Copy-map word encoding. Word w (uint64, little-endian, at MapOff+8*w)
// holds the state of pages 32w..32w+31: bit i is the page's C (copied) bit and
// bit 32+i its B (busy) bit. A page's data is valid iff C=1 and B=0.
const (
	pageUncopied   = 0 // C=0 B=0
	pageCopied     = 1 // C=1 B=0: done
	pageFaultCopy  = 2 // C=0 B=1: a fault handler copies from the live (protected) page
	pageDrainWrite = 3 // C=1 B=1: the drain writes a clean bounce copy to the slot
)

// pageState extracts the 2-bit state of page bit i (0..31) from a map word.
// Fault path (through state).
//
//go:nosplit
func pageState(w uint64, i uint) uint64 { return (w>>i)&1 | (w>>(32+i)&1)<<1 }

// withState returns w with page bit i set to state s. Fault path (through
// casState).
//
//go:nosplit
func withState(w uint64, i uint, s uint64) uint64 {
	w &^= 1<<i | 1<<(32+i)
	return w | (s&1)<<i | (s>>1)<<(32+i)
}

// hashAlg returns the layout's hash algorithm, HashSHA256 if unset.
func (l *Layout) hashAlg() uint32 {
	if l.HashAlg == 0 {
		return HashSHA256
	}
	return l.HashAlg
}
