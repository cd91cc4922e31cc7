package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pagesnap/pagesnap/snapshot"
)

// scanStep is the alignment at which a RAM dump is searched for an image
// header: the storage region starts on a page (MinPageSize) boundary.
const scanStep = snapshot.MinPageSize

// input is an opened image.
type input struct {
	path string
	f    *os.File
	// Off is the image's offset in the file; Size the file's size.
	Off, Size int64
	// How says how the image was found.
	How string
	Im  *snapshot.Image
	// read counts the bytes read through Im (for progress).
	read *atomic.Uint64
}

func (in *input) Close() error { return in.f.Close() }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n *atomic.Uint64
}

func (c countingReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(b, off)
	c.n.Add(uint64(n))
	return n, err
}

// inputFlags are the flags every command that reads an image has.
type inputFlags struct {
	offset   string
	progress bool
}

func addInputFlags(fs *flag.FlagSet, f *inputFlags, offsetName string) {
	fs.StringVar(&f.offset, offsetName, "", "byte offset of the image in the file (default: 0 if the file starts with an image header, else the one 4096-byte boundary of a RAM dump where a valid header is)")
	fs.BoolVar(&f.progress, "progress", false, "show a progress bar on standard error even when it is not a terminal")
}

// parseUint parses a decimal, 0x-hexadecimal or 0o/0b number.
func parseUint(what, s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, 64)
	if err != nil {
		return 0, fail(exitUsage, "bad %s %q: want a number (decimal or 0x hexadecimal)", what, s)
	}
	return v, nil
}

// fileSize returns the size of f: a regular file's length, or a block
// device's (whose Stat size is 0).
func fileSize(f *os.File) (int64, error) {
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	_, err = f.Seek(0, io.SeekStart)
	return n, err
}

// openImage opens the image in the file at path: at offset (a number), or,
// with offset empty, at 0 if the file starts with the magic, else at the
// one page boundary of a RAM dump where a header parses.
func openImage(path, offset string) (*input, error) {
	var off int64 = -1
	if offset != "" {
		v, err := parseUint("-offset", offset)
		if err != nil {
			return nil, err
		}
		off = int64(v)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(exitInput, "%v", err)
	}
	in := &input{path: path, f: f, read: new(atomic.Uint64)}
	if err := in.locate(off); err != nil {
		f.Close()
		return nil, err
	}
	return in, nil
}

func (in *input) locate(off int64) error {
	size, err := fileSize(in.f)
	if err != nil {
		return fail(exitInput, "%s: %v", in.path, err)
	}
	in.Size = size
	if off >= 0 {
		if off >= size {
			return fail(exitUsage, "%s: -offset %#x is beyond its end (%d bytes)", in.path, off, size)
		}
		im, err := in.parse(off)
		if err != nil {
			return fail(exitInput, "%s at offset %#x: %v", in.path, off, explain(err))
		}
		in.Off, in.Im, in.How = off, im, fmt.Sprintf("at offset %#x (-offset)", off)
		return nil
	}
	magic := []byte(snapshot.Magic)
	head := make([]byte, len(magic))
	if n, _ := in.f.ReadAt(head, 0); n == len(head) && bytes.Equal(head, magic) {
		im, err := in.parse(0)
		if err != nil {
			return fail(exitInput, "%s: %v", in.path, explain(err))
		}
		in.Off, in.Im, in.How = 0, im, "at offset 0"
		return nil
	}
	// A RAM dump: look for headers on page boundaries.
	type cand struct {
		off int64
		im  *snapshot.Image
		err error
	}
	var cands []cand
	buf := make([]byte, 1<<20)
	for base := int64(0); base < size; base += int64(len(buf)) {
		n, err := in.f.ReadAt(buf, base)
		if err != nil && err != io.EOF {
			return fail(exitInput, "%s: %v", in.path, err)
		}
		for o := 0; o+len(magic) <= n; o += scanStep {
			if bytes.Equal(buf[o:o+len(magic)], magic) {
				im, err := in.parse(base + int64(o))
				cands = append(cands, cand{base + int64(o), im, err})
			}
		}
	}
	var ok []cand
	for _, c := range cands {
		if c.err == nil {
			ok = append(ok, c)
		}
	}
	switch {
	case len(cands) == 0:
		return fail(exitInput, "%s: not a pagesnap image: no %q header at offset 0 or at any %d-byte boundary of its %d bytes",
			in.path, snapshot.Magic, scanStep, size)
	case len(ok) == 0:
		return fail(exitInput, "%s: RAM dump: the %q header at offset %#x is unusable: %v", in.path, snapshot.Magic, cands[0].off, explain(cands[0].err))
	case len(ok) > 1:
		// Copies of a header elsewhere in RAM (a buffer that read one)
		// have no complete copy map behind them: prefer the images that
		// are complete with every page copied.
		var full []cand
		for _, c := range ok {
			if c.im.Complete() && c.im.CopiedPages() == c.im.NumPages {
				full = append(full, c)
			}
		}
		if len(full) != 1 {
			offs := make([]string, len(ok))
			for i, c := range ok {
				offs[i] = fmt.Sprintf("%#x (%v)", c.off, c.im.State)
			}
			return fail(exitInput, "%s: RAM dump: %d pagesnap headers parse, at offsets %s: choose one with -offset",
				in.path, len(ok), strings.Join(offs, ", "))
		}
		ok = full
	}
	in.Off, in.Im = ok[0].off, ok[0].im
	in.How = fmt.Sprintf("at offset %#x of a RAM dump (found by its header)", in.Off)
	return nil
}

// parse reads the image header at off.
func (in *input) parse(off int64) (*snapshot.Image, error) {
	r := countingReader{io.NewSectionReader(in.f, off, in.Size-off), in.read}
	return snapshot.ReadImage(r, in.Size-off)
}

// explain adds what to do about an input error to the snapshot package's
// message.
func explain(err error) error {
	switch {
	case errors.Is(err, snapshot.ErrTruncated):
		return fmt.Errorf("%w (the file ends before the image does: an interrupted copy, or the wrong region saved)", err)
	case errors.Is(err, snapshot.ErrVersion):
		return fmt.Errorf("%w (written by another pagesnap version)", err)
	}
	return err
}
