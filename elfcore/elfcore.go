// Package elfcore converts a pagesnap snapshot image into an ELF core file
// that debuggers open with the kernel ELF (gdb kernel.elf core).
//
// The core is ELF64, little-endian, type ET_CORE, for the kernel's machine
// (EM_X86_64 or EM_AARCH64). It holds one PT_NOTE and one PT_LOAD per
// captured range, in range order: p_vaddr = p_paddr = the range's physical
// base (the pagesnap kernel maps memory identity, so a kernel symbol's
// address is where its bytes are in the core), p_filesz = p_memsz = the
// range's size, flags RWX, p_align the image's page size. Segment data
// follows the notes, page-aligned, in the image's page order.
//
// The PT_NOTE holds one note, owner "PAGESNAP", type NoteInfo, whose
// descriptor is (little-endian):
//
//	 0  uint32    storage format version of the image
//	 4  uint32    image state (2 = complete)
//	 8  uint64    instant (the kernel's clock at the snapshot instant)
//	16  uint64    page size
//	24  uint64    number of pages
//	32  [32]byte  root hash recorded in the image's manifest
//
// Excluded ranges (format version 2) have no segment: they are not in the
// image.
//
// There is no NT_PRSTATUS: a snapshot records memory, not registers, so the
// core has no threads and no stack to unwind; globals and the heap are
// readable.
package elfcore

import (
	"bufio"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pagesnap/pagesnap/snapshot"
)

// NoteName is the owner name of the pagesnap note.
const NoteName = "PAGESNAP"

// NoteInfo is the type of the pagesnap note (format version, state,
// instant, page size, pages, root hash).
const NoteInfo = 1

// InfoSize is the size of the NoteInfo descriptor.
const InfoSize = 64

// Info is the content of the NoteInfo note.
type Info struct {
	Version  uint32
	State    snapshot.State
	Instant  uint64
	PageSize uint64
	NumPages uint64
	Root     [snapshot.HashSize]byte
}

// ErrIncomplete is returned by Write for an image whose pages are not all
// copied: a core must not present never-captured pages as memory.
var ErrIncomplete = errors.New("elfcore: the snapshot is not complete")

const (
	ehdrSize = 64
	phdrSize = 56
)

// Options configure Write.
type Options struct {
	// Machine is the core's e_machine (elf.EM_X86_64 or elf.EM_AARCH64): the
	// kernel ELF's, or gdb refuses to pair them.
	Machine elf.Machine
	// Progress, if set, is called after each page with the pages written
	// and the total.
	Progress func(done, total uint64)
}

// Size returns the size in bytes of the core Write produces for im.
func Size(im *snapshot.Image) uint64 {
	return dataOffset(im) + im.NumPages*im.PageSize
}

func notesSize() uint64 { return 12 + align4(uint64(len(NoteName)+1)) + InfoSize }

func align4(x uint64) uint64 { return (x + 3) &^ 3 }

func dataOffset(im *snapshot.Image) uint64 {
	off := ehdrSize + phdrSize*uint64(1+len(im.Ranges)) + notesSize()
	return (off + im.PageSize - 1) &^ (im.PageSize - 1)
}

// Write writes the ELF core of im to w. The image must be complete (every
// page copied; it does not check hashes: run (*snapshot.Image).Verify for
// that).
func Write(w io.Writer, im *snapshot.Image, o Options) error {
	switch o.Machine {
	case elf.EM_X86_64, elf.EM_AARCH64:
	default:
		return fmt.Errorf("elfcore: unsupported machine %v (EM_X86_64 or EM_AARCH64)", o.Machine)
	}
	if !im.Complete() {
		return fmt.Errorf("%w: header state %v", ErrIncomplete, im.State)
	}
	if n := im.CopiedPages(); n != im.NumPages {
		return fmt.Errorf("%w: %d of %d pages copied", ErrIncomplete, n, im.NumPages)
	}
	root, err := im.RootHash()
	if err != nil {
		return fmt.Errorf("elfcore: reading the root hash: %w", err)
	}
	le := binary.LittleEndian
	bw := bufio.NewWriterSize(w, 1<<20)
	nph := 1 + len(im.Ranges)
	data := dataOffset(im)

	// ELF header (ELF-64 Object File Format, gABI).
	h := make([]byte, ehdrSize)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	h[elf.EI_OSABI] = byte(elf.ELFOSABI_NONE)
	le.PutUint16(h[16:], uint16(elf.ET_CORE))
	le.PutUint16(h[18:], uint16(o.Machine))
	le.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(h[32:], ehdrSize) // e_phoff
	le.PutUint16(h[52:], ehdrSize)
	le.PutUint16(h[54:], phdrSize)
	le.PutUint16(h[56:], uint16(nph))
	bw.Write(h)

	// Program headers: the note, then one PT_LOAD per range.
	noteOff := uint64(ehdrSize + phdrSize*nph)
	ph := func(typ elf.ProgType, flags elf.ProgFlag, off, addr, size, align uint64) {
		p := make([]byte, phdrSize)
		le.PutUint32(p[0:], uint32(typ))
		le.PutUint32(p[4:], uint32(flags))
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], addr) // p_vaddr: identity mapped
		le.PutUint64(p[24:], addr) // p_paddr
		le.PutUint64(p[32:], size)
		le.PutUint64(p[40:], size)
		le.PutUint64(p[48:], align)
		bw.Write(p)
	}
	ph(elf.PT_NOTE, 0, noteOff, 0, notesSize(), 4)
	off := data
	for _, r := range im.Ranges {
		ph(elf.PT_LOAD, elf.PF_R|elf.PF_W|elf.PF_X, off, r.Base, r.Size, im.PageSize)
		off += r.Size
	}

	// The note.
	n := make([]byte, notesSize())
	le.PutUint32(n[0:], uint32(len(NoteName)+1))
	le.PutUint32(n[4:], InfoSize)
	le.PutUint32(n[8:], NoteInfo)
	copy(n[12:], NoteName)
	d := n[12+align4(uint64(len(NoteName)+1)):]
	le.PutUint32(d[0:], im.Version)
	le.PutUint32(d[4:], uint32(im.State))
	le.PutUint64(d[8:], im.Instant)
	le.PutUint64(d[16:], im.PageSize)
	le.PutUint64(d[24:], im.NumPages)
	copy(d[32:], root[:])
	bw.Write(n)
	bw.Write(make([]byte, data-noteOff-uint64(len(n))))

	// The pages, in range order (the image's page order).
	var done uint64
	for _, r := range im.Ranges {
		for a := r.Base; a < r.End(); a += im.PageSize {
			b, err := im.Page(a)
			if err != nil {
				return err
			}
			if _, err := bw.Write(b); err != nil {
				return err
			}
			done++
			if o.Progress != nil {
				o.Progress(done, im.NumPages)
			}
		}
	}
	return bw.Flush()
}

// ReadInfo returns the pagesnap note of a core written by Write.
func ReadInfo(f *elf.File) (Info, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return Info{}, fmt.Errorf("elfcore: reading notes: %w", err)
		}
		for len(b) >= 12 {
			le := binary.LittleEndian
			nsz, dsz, typ := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint32(b[8:])
			if 12+align4(nsz)+align4(dsz) > uint64(len(b)) {
				break
			}
			name := string(b[12 : 12+nsz])
			desc := b[12+align4(nsz) : 12+align4(nsz)+dsz]
			b = b[12+align4(nsz)+align4(dsz):]
			if name != NoteName+"\x00" || typ != NoteInfo || len(desc) < InfoSize {
				continue
			}
			in := Info{Version: le.Uint32(desc), State: snapshot.State(le.Uint32(desc[4:])),
				Instant: le.Uint64(desc[8:]), PageSize: le.Uint64(desc[16:]), NumPages: le.Uint64(desc[24:])}
			copy(in.Root[:], desc[32:64])
			return in, nil
		}
	}
	return Info{}, errors.New("elfcore: no PAGESNAP note")
}
