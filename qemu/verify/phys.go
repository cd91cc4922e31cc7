package verify

import (
	"fmt"
	"io"
	"os"
)

// Phys is a physical-memory image: a file (a pmemsave dump, a
// memory-backend-file of guest RAM, a dump taken by the harness) whose byte
// at offset o is guest physical address Base+o.
type Phys struct {
	r    io.ReaderAt
	Base uint64
	Size uint64
	f    *os.File
}

// NewPhys wraps r, which holds size bytes starting at physical address base.
func NewPhys(r io.ReaderAt, base, size uint64) *Phys { return &Phys{r: r, Base: base, Size: size} }

// OpenPhys opens a physical-memory file whose first byte is address base.
func OpenPhys(path string, base uint64) (*Phys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Phys{r: f, Base: base, Size: uint64(st.Size()), f: f}, nil
}

// Close closes the file opened by OpenPhys.
func (p *Phys) Close() error {
	if p.f != nil {
		return p.f.Close()
	}
	return nil
}

// Contains reports whether [addr, addr+n) is inside the image.
func (p *Phys) Contains(addr, n uint64) bool {
	return addr >= p.Base && addr-p.Base <= p.Size && n <= p.Size-(addr-p.Base)
}

// Read reads n bytes at physical address addr.
func (p *Phys) Read(addr, n uint64) ([]byte, error) {
	if !p.Contains(addr, n) {
		return nil, fmt.Errorf("verify: [%#x, %#x) outside the memory image [%#x, %#x)", addr, addr+n, p.Base, p.Base+p.Size)
	}
	b := make([]byte, n)
	if _, err := p.r.ReadAt(b, int64(addr-p.Base)); err != nil {
		return nil, fmt.Errorf("verify: reading %#x: %w", addr, err)
	}
	return b, nil
}

// Section returns a reader over [addr, addr+n), for example the snapshot
// storage inside a RAM image.
func (p *Phys) Section(addr, n uint64) (*io.SectionReader, error) {
	if !p.Contains(addr, n) {
		return nil, fmt.Errorf("verify: storage [%#x, %#x) outside the memory image [%#x, %#x)", addr, addr+n, p.Base, p.Base+p.Size)
	}
	return io.NewSectionReader(p.r, int64(addr-p.Base), int64(n)), nil
}
