package verify

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pagesnap/pagesnap/snapshot"
)

// ErrMismatch is wrapped by Report.Err when the snapshot differs from the
// reference image.
var ErrMismatch = errors.New("verify: snapshot differs from the reference image")

// Problem is the kind of a page-level finding.
type Problem string

// Page-level findings.
const (
	// Differs: the snapshot page's bytes differ from the reference.
	Differs Problem = "differs"
	// NotCopied: the copy map says the page was never copied.
	NotCopied Problem = "not copied"
	// NoReference: the reference image does not cover the page.
	NoReference Problem = "no reference"
	// ReadError: the page could not be read from the image.
	ReadError Problem = "read error"
)

// Mismatch is one page that does not match.
type Mismatch struct {
	Addr    uint64  // physical address of the page
	Problem Problem // what is wrong
	// Offset is the offset in the page of the first differing byte, and
	// Want/Got that byte in the reference and in the snapshot (Differs).
	Offset    uint64
	Want, Got byte
	// DiffBytes counts the differing bytes in the page (Differs).
	DiffBytes int
	// Owner owns the first differing byte (the page start otherwise).
	Owner Owner
	Err   error // ReadError and NoReference detail
}

// String is the one-line report of the page: address, owner, problem and
// the first differing byte.
func (m Mismatch) String() string {
	switch m.Problem {
	case Differs:
		return fmt.Sprintf("page %#x %s: first differing byte at %#x (offset %#x): snapshot %#02x, reference %#02x; %d bytes differ",
			m.Addr, m.Owner, m.Addr+m.Offset, m.Offset, m.Got, m.Want, m.DiffBytes)
	case NotCopied:
		return fmt.Sprintf("page %#x %s: not copied", m.Addr, m.Owner)
	}
	return fmt.Sprintf("page %#x %s: %s: %v", m.Addr, m.Owner, m.Problem, m.Err)
}

// Report is the outcome of Compare.
type Report struct {
	PageSize uint64
	// Pages is the number of captured pages; Compared how many matched or
	// were compared.
	Pages, Compared, Matched uint64
	// ImageErr is the result of the image's own check ((*snapshot.Image).Verify:
	// state, copy map, manifest and root hashes).
	ImageErr error
	// Mismatches lists every page that does not match, in address order.
	Mismatches []Mismatch
}

// OK reports whether the snapshot verified and matched every page.
func (r *Report) OK() bool { return r.ImageErr == nil && len(r.Mismatches) == 0 }

// Err returns nil if OK, else an error wrapping ErrMismatch (pages differ)
// and/or the image error, quoting the first mismatches.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	var errs []error
	if r.ImageErr != nil {
		errs = append(errs, fmt.Errorf("verify: image check: %w", r.ImageErr))
	}
	if len(r.Mismatches) > 0 {
		var b strings.Builder
		for i, m := range r.Mismatches {
			if i == 8 {
				fmt.Fprintf(&b, "\n\t… %d more", len(r.Mismatches)-i)
				break
			}
			b.WriteString("\n\t" + m.String())
		}
		errs = append(errs, fmt.Errorf("%w: %d of %d pages%s", ErrMismatch, len(r.Mismatches), r.Pages, b.String()))
	}
	return errors.Join(errs...)
}

// String is a human-readable report: a summary line, then every mismatch.
func (r *Report) String() string {
	var b strings.Builder
	status := "VERIFIED"
	if !r.OK() {
		status = "FAILED"
	}
	fmt.Fprintf(&b, "%s: %d pages of %d bytes, %d match, %d mismatch", status, r.Pages, r.PageSize, r.Matched, len(r.Mismatches))
	if r.ImageErr != nil {
		fmt.Fprintf(&b, "; image check: %v", r.ImageErr)
	} else {
		b.WriteString("; manifest and root hash OK")
	}
	// Every differing page is listed; runs of consecutive pages that were
	// not copied (an interrupted snapshot: often most of memory) are
	// listed as one line per run.
	ms := r.Mismatches
	for i := 0; i < len(ms); i++ {
		j := i
		for j+1 < len(ms) && ms[i].Problem == NotCopied && ms[j+1].Problem == NotCopied && ms[j+1].Addr == ms[j].Addr+r.PageSize {
			j++
		}
		if j == i {
			b.WriteString("\n  " + ms[i].String())
			continue
		}
		fmt.Fprintf(&b, "\n  pages %#x-%#x (%d pages, first %s): not copied", ms[i].Addr, ms[j].Addr+r.PageSize, j-i+1, ms[i].Owner)
		i = j
	}
	return b.String()
}

// Compare checks im with its own manifest (Verify) and compares every
// captured page with the reference image ref, taken at the snapshot
// instant. owners may be nil.
func Compare(ref *Phys, im *snapshot.Image, owners *Owners) *Report {
	r := &Report{PageSize: im.PageSize, Pages: im.NumPages, ImageErr: im.Verify()}
	for _, rg := range im.Ranges {
		for a := rg.Base; a < rg.End(); a += im.PageSize {
			r.Compared++
			m := comparePage(ref, im, a, owners)
			if m == nil {
				r.Matched++
				continue
			}
			r.Mismatches = append(r.Mismatches, *m)
		}
	}
	return r
}

func comparePage(ref *Phys, im *snapshot.Image, a uint64, owners *Owners) *Mismatch {
	got, err := im.Page(a)
	if err != nil {
		if errors.Is(err, snapshot.ErrIncomplete) {
			return &Mismatch{Addr: a, Problem: NotCopied, Owner: owners.Owner(a)}
		}
		return &Mismatch{Addr: a, Problem: ReadError, Owner: owners.Owner(a), Err: err}
	}
	want, err := ref.Read(a, im.PageSize)
	if err != nil {
		return &Mismatch{Addr: a, Problem: NoReference, Owner: owners.Owner(a), Err: err}
	}
	first := -1
	n := 0
	for i := range want {
		if want[i] != got[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	if first < 0 {
		return nil
	}
	return &Mismatch{Addr: a, Problem: Differs, Offset: uint64(first), Want: want[first], Got: got[first],
		DiffBytes: n, Owner: owners.Owner(a + uint64(first))}
}

// ReadImage parses the snapshot storage held in r (size bytes): a file, or
// a Phys.Section of guest memory.
func ReadImage(r io.ReaderAt, size int64) (*snapshot.Image, error) {
	return snapshot.ReadImage(r, size)
}
