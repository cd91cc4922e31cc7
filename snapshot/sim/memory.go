// Package sim is a simulated machine for testing the snapshot engine on the
// host: sparse physical memory with 64-bit atomic words, page tables in the
// real amd64/arm64 formats, a software MMU that enforces the write bit on
// every store and calls the fault handler, CPUs with a TLB that caches
// read-only and writable translations until they are invalidated, and a
// DMA writer that bypasses the MMU. Host only.
package sim

import (
	"encoding/binary"
	"io"
	"sync/atomic"
)

const chunkShift = 21 // 2 MiB chunks
const chunkWords = 1 << (chunkShift - 3)

type chunk [chunkWords]atomic.Uint64

// Memory is sparse physical memory [0, Size): 2 MiB chunks allocated on
// first store; unallocated memory reads as zero. Every access is a 64-bit
// atomic operation, like an aligned word access on hardware, so concurrent
// use is race-free.
type Memory struct {
	size   uint64
	chunks []atomic.Pointer[chunk]
}

// NewMemory returns a zeroed memory of size bytes (multiple of 2 MiB).
func NewMemory(size uint64) *Memory {
	return &Memory{size: size, chunks: make([]atomic.Pointer[chunk], size>>chunkShift)}
}

// Populate allocates the backing of [base, base+size) now, so that later
// stores there allocate nothing (allocation tests of the engine).
func (m *Memory) Populate(base, size uint64) {
	for pa := base &^ (1<<chunkShift - 1); pa < base+size; pa += 1 << chunkShift {
		m.word(pa, true)
	}
}

// Size returns the memory size.
func (m *Memory) Size() uint64 { return m.size }

func (m *Memory) word(pa uint64, alloc bool) *atomic.Uint64 {
	if pa&7 != 0 || pa >= m.size {
		panic("sim: bad physical address")
	}
	cp := &m.chunks[pa>>chunkShift]
	c := cp.Load()
	if c == nil {
		if !alloc {
			return nil
		}
		cp.CompareAndSwap(nil, new(chunk))
		c = cp.Load()
	}
	return &c[pa>>3&(chunkWords-1)]
}

// Load64 atomically reads the word at pa.
func (m *Memory) Load64(pa uint64) uint64 {
	if w := m.word(pa, false); w != nil {
		return w.Load()
	}
	return 0
}

// Store64 atomically writes the word at pa.
func (m *Memory) Store64(pa uint64, v uint64) {
	if w := m.word(pa, v != 0); w != nil {
		w.Store(v)
	}
}

// CAS64 atomically compares and swaps the word at pa.
func (m *Memory) CAS64(pa uint64, old, new uint64) bool {
	return m.word(pa, true).CompareAndSwap(old, new)
}

// Copy copies n bytes (multiple of 8) from src to dst word by word.
func (m *Memory) Copy(dst, src, n uint64) {
	if m.never(src, n) && m.never(dst, n) {
		return // zero to zero (sparse memory: large simulated machines)
	}
	for off := uint64(0); off < n; off += 8 {
		m.Store64(dst+off, m.Load64(src+off))
	}
}

// never reports whether [pa, pa+n) lies in one chunk never stored to
// (reads as zero).
func (m *Memory) never(pa, n uint64) bool {
	return pa>>chunkShift == (pa+n-1)>>chunkShift && pa+n <= m.size && m.chunks[pa>>chunkShift].Load() == nil
}

// Read copies memory at pa into b (len(b) multiple of 8).
func (m *Memory) Read(pa uint64, b []byte) {
	if len(b) > 0 && m.never(pa, uint64(len(b))) {
		clear(b)
		return
	}
	for off := 0; off+8 <= len(b); off += 8 {
		binary.LittleEndian.PutUint64(b[off:], m.Load64(pa+uint64(off)))
	}
}

// Write copies b (any length) to memory at pa (8-byte aligned).
func (m *Memory) Write(pa uint64, b []byte) {
	for off := 0; off < len(b); off += 8 {
		var w [8]byte
		if len(b)-off < 8 {
			w = [8]byte(binary.LittleEndian.AppendUint64(nil, m.Load64(pa+uint64(off))))
		}
		copy(w[:], b[off:])
		m.Store64(pa+uint64(off), binary.LittleEndian.Uint64(w[:]))
	}
}

// ReaderAt returns an io.ReaderAt over [base, base+size).
func (m *Memory) ReaderAt(base, size uint64) *Region {
	return &Region{m: m, base: base, size: size}
}

// Region reads a part of Memory as an io.ReaderAt (for snapshot.ReadImage).
type Region struct {
	m          *Memory
	base, size uint64
}

// ReadAt implements io.ReaderAt.
func (r *Region) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || uint64(off)+uint64(len(b)) > r.size {
		return 0, io.EOF
	}
	pa := r.base + uint64(off)
	if pa%8 == 0 && len(b)%8 == 0 {
		r.m.Read(pa, b)
		return len(b), nil
	}
	for i := range b {
		a := pa + uint64(i)
		b[i] = byte(r.m.Load64(a&^7) >> (8 * (a & 7)))
	}
	return len(b), nil
}
