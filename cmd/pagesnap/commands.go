package main

import (
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/elfcore"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

var infoCmd = &command{
	name: "info", args: "[-offset N] IMAGE", nargs: 1,
	short: "print the header: format, state, instant, captured ranges, exclusions, layout",
	long: `Info prints what the image's header records: format version, hash, page
size, state (capturing, complete, aborted), the instant (the kernel's clock
at the snapshot instant: TSC ticks on amd64, the generic timer's virtual
count on arm64), the captured ranges, the excluded ranges, how many pages
the copy map says were copied, the layout and the recorded root hash. It
does not check hashes: see verify.

examples:
  pagesnap info storage.img         # pmemsave of the storage region
  pagesnap info /dev/shm/guest-ram  # RAM dump: the header is found
  pagesnap info -offset 0x30000000 ram.bin`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f inputFlags
		addInputFlags(fs, &f, "offset")
		return func(e *env, args []string) error {
			in, err := openImage(args[0], f.offset)
			if err != nil {
				return err
			}
			defer in.Close()
			printInfo(e, in)
			return nil
		}
	},
}

func mib(n uint64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func printInfo(e *env, in *input) {
	im := in.Im
	w := e.stdout
	fmt.Fprintf(w, "image:     %s, %s (%d bytes of %d)\n", in.path, in.How, im.Layout.Size, in.Size)
	fmt.Fprintf(w, "format:    version %d, %s page hashes, page size %d\n", im.Version, snapshot.HashName(im.HashAlg), im.PageSize)
	fmt.Fprintf(w, "state:     %v\n", im.State)
	fmt.Fprintf(w, "instant:   %d (the kernel's clock at the snapshot instant)\n", im.Instant)
	fmt.Fprintf(w, "pages:     %d captured, %d copied\n", im.NumPages, im.CopiedPages())
	fmt.Fprintf(w, "captured:  %d ranges, %s\n", len(im.Ranges), mib(im.NumPages*im.PageSize))
	for _, r := range im.Ranges {
		fmt.Fprintf(w, "  0x%012x-0x%012x  %9s  %d pages\n", r.Base, r.End(), mib(r.Size), r.Size/im.PageSize)
	}
	printExclusions(w, im)
	l := im.Layout
	fmt.Fprintf(w, "layout:    copy map %#x+%#x, scratch %#x, data %#x+%#x, manifest %#x, size %#x\n",
		l.MapOff, l.MapSize, l.ScratchOff, l.DataOff, l.NumPages*l.PageSize, l.ManifestOff, l.Size)
	if root, err := im.RootHash(); err == nil && im.Complete() {
		fmt.Fprintf(w, "root:      %x (recorded; pagesnap verify checks it)\n", root)
	} else {
		fmt.Fprintf(w, "root:      none (the snapshot is %v)\n", im.State)
	}
}

var verifyCmd = &command{
	name: "verify", args: "[-offset N] [-progress] IMAGE", nargs: 1,
	short: "check the image: complete, every page's hash against the manifest, the root hash",
	long: `Verify checks that the header says complete, that the copy map has every
page copied, that every page's hash (SHA-256 or BLAKE2b-256, as the header
says) matches the manifest and that the
root hash matches the header and the page hashes. It stops at the first
bad page and names it. Exit status 0: verified; 1: it does not verify.

examples:
  pagesnap verify storage.img
  pagesnap verify -progress /dev/shm/guest-ram`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f inputFlags
		addInputFlags(fs, &f, "offset")
		return func(e *env, args []string) error {
			in, err := openImage(args[0], f.offset)
			if err != nil {
				return err
			}
			defer in.Close()
			im := in.Im
			total := im.NumPages * (im.PageSize + snapshot.HashSize)
			p := newProgress(e, f.progress, "verify", total>>20, "MiB")
			err = watch(p, in, func() error { return im.Verify() })
			if err != nil {
				return fail(exitFound, "%s: does not verify: %v", in.path, err)
			}
			root, _ := im.RootHash()
			fmt.Fprintf(e.stdout, "verified: %d pages of %d bytes, state complete, every page hash and the root hash match\nroot: %x\n",
				im.NumPages, im.PageSize, root)
			return nil
		}
	},
}

// watch runs f, drawing p from the bytes read through in.
func watch(p *progress, in *input, f func() error) error {
	start := in.read.Load()
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.Set((in.read.Load() - start) >> 20)
			}
		}
	}()
	err := f()
	close(done)
	<-stopped
	p.Set(p.total)
	p.Done()
	return err
}

var extractCmd = &command{
	name: "extract", args: "[-offset N] [-o FILE] IMAGE ADDR", nargs: 2,
	short: "write the captured page containing physical address ADDR",
	long: `Extract writes the snapshot's copy of the page containing the physical
address ADDR (decimal or 0x hexadecimal; any address in the page) to
standard output or to -o FILE. It fails (status 4) if the address was not
captured or the page was never copied. It does not check the page's hash:
run verify for that.

examples:
  pagesnap extract storage.img 0x10523000 | xxd | head
  pagesnap extract -o page.bin storage.img 0x10523abc`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f inputFlags
		addInputFlags(fs, &f, "offset")
		out := fs.String("o", "", "write the page to this file instead of standard output")
		return func(e *env, args []string) error {
			addr, err := parseUint("address", args[1])
			if err != nil {
				return err
			}
			in, err := openImage(args[0], f.offset)
			if err != nil {
				return err
			}
			defer in.Close()
			b, err := in.Im.Page(addr)
			if err != nil {
				var pe *snapshot.PageError
				if errors.As(err, &pe) && (errors.Is(err, snapshot.ErrNotCaptured) || errors.Is(err, snapshot.ErrIncomplete)) {
					return fail(exitMissing, "%s: %#x: %v", in.path, addr, pageWhy(in.Im, err))
				}
				return fail(exitInput, "%s: %v", in.path, err)
			}
			return writeOut(e, *out, b)
		}
	},
}

func pageWhy(im *snapshot.Image, err error) string {
	if errors.Is(err, snapshot.ErrNotCaptured) {
		rs := make([]string, len(im.Ranges))
		for i, r := range im.Ranges {
			rs[i] = r.String()
		}
		if x, ok := im.Exclusion(err.(*snapshot.PageError).Addr); ok {
			return fmt.Sprintf("not captured: in excluded range %v (%v)", x.Range, x.Reason)
		}
		return fmt.Sprintf("not in a captured range (captured: %s)", strings.Join(rs, " "))
	}
	return fmt.Sprintf("page %#x was not copied (the snapshot is %v)", err.(*snapshot.PageError).Addr, im.State)
}

func writeOut(e *env, path string, b []byte) error {
	if path == "" {
		if _, err := e.stdout.Write(b); err != nil {
			return fail(exitOutput, "writing standard output: %v", err)
		}
		return nil
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fail(exitOutput, "%v", err)
	}
	return nil
}

var diffCmd = &command{
	name: "diff", args: "[-kernel ELF] [-summary] [-offset-a N] [-offset-b N] A B", nargs: 2,
	short: "list the pages that differ between two snapshots, with their owners",
	long: `Diff compares two snapshots page by page and lists every page whose
content differs: its address, how many bytes differ, the first differing
byte, and with -kernel the owner of that byte from the kernel ELF (section
and symbol, e.g. "kernel bss (.noptrbss runtime.mheap_+0x40)"; pages
outside the kernel image — heap, stacks — are "unknown"). Pages captured
in only one image, or not copied in one, are listed too. The last lines
count the differing pages per owner (symbol without offset). Exit status
0: no page differs; 1: pages differ; 4: the page sizes differ.

examples:
  pagesnap diff -kernel build/pagesnap-amd64-256M.elf a.img b.img
  pagesnap diff -summary -kernel kernel.elf a.img /dev/shm/guest-ram`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var fa, fb inputFlags
		addInputFlags(fs, &fa, "offset-a")
		fs.StringVar(&fb.offset, "offset-b", "", "byte offset of image B in its file (default: found as for A)")
		kernel := fs.String("kernel", "", "the kernel ELF, to name the owner of each differing page")
		summary := fs.Bool("summary", false, "print only the counts per owner")
		return func(e *env, args []string) error {
			var owners *verify.Owners
			if *kernel != "" {
				o, err := verify.LoadOwners(*kernel)
				if err != nil {
					return fail(exitInput, "%v", err)
				}
				owners = o
			}
			a, err := openImage(args[0], fa.offset)
			if err != nil {
				return err
			}
			defer a.Close()
			b, err := openImage(args[1], fb.offset)
			if err != nil {
				return err
			}
			defer b.Close()
			return diff(e, a, b, owners, *summary, fa.progress)
		}
	},
}

// pageDiff is one page that differs between A and B.
type pageDiff struct {
	Addr  uint64
	What  string // "differs", "only in A", "not copied in B", …
	Bytes int    // differing bytes (differs)
	First uint64 // offset of the first differing byte (differs)
	Owner verify.Owner
}

func (d pageDiff) String() string {
	if d.What == "differs" {
		return fmt.Sprintf("0x%012x  %4d bytes differ, first at +0x%03x  %s", d.Addr, d.Bytes, d.First, d.Owner)
	}
	return fmt.Sprintf("0x%012x  %-33s %s", d.Addr, d.What, d.Owner)
}

// diffImages returns the pages that differ between a and b in address
// order; p advances by one per page.
func diffImages(a, b *snapshot.Image, owners *verify.Owners, p *progress) ([]pageDiff, uint64, error) {
	var out []pageDiff
	var compared, done uint64
	ps := a.PageSize
	for _, r := range a.Ranges {
		for pa := r.Base; pa < r.End(); pa += ps {
			done++
			p.Set(done)
			if _, ok := b.Layout.PageIndex(pa); !ok {
				out = append(out, pageDiff{Addr: pa, What: "only in A", Owner: owners.Owner(pa)})
				continue
			}
			compared++
			x, errA := a.Page(pa)
			y, errB := b.Page(pa)
			for _, c := range []struct {
				err  error
				name string
			}{{errA, "A"}, {errB, "B"}} {
				if c.err != nil && !errors.Is(c.err, snapshot.ErrIncomplete) {
					return nil, 0, fmt.Errorf("image %s: %w", c.name, c.err)
				}
			}
			switch {
			case errA != nil && errB != nil:
				out = append(out, pageDiff{Addr: pa, What: "not copied in A nor B", Owner: owners.Owner(pa)})
				continue
			case errA != nil:
				out = append(out, pageDiff{Addr: pa, What: "not copied in A", Owner: owners.Owner(pa)})
				continue
			case errB != nil:
				out = append(out, pageDiff{Addr: pa, What: "not copied in B", Owner: owners.Owner(pa)})
				continue
			}
			first, n := -1, 0
			for i := range x {
				if x[i] != y[i] {
					if first < 0 {
						first = i
					}
					n++
				}
			}
			if n > 0 {
				out = append(out, pageDiff{Addr: pa, What: "differs", Bytes: n, First: uint64(first), Owner: owners.Owner(pa + uint64(first))})
			}
		}
	}
	for _, r := range b.Ranges {
		for pa := r.Base; pa < r.End(); pa += ps {
			if _, ok := a.Layout.PageIndex(pa); !ok {
				out = append(out, pageDiff{Addr: pa, What: "only in B", Owner: owners.Owner(pa)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out, compared, nil
}

// ownerGroup names an owner without the offset into its symbol.
func ownerGroup(o verify.Owner) string {
	w := o.Where
	if i := strings.LastIndex(w, "+0x"); i >= 0 {
		w = w[:i]
	}
	return verify.Owner{Kind: o.Kind, Where: w}.String()
}

func diff(e *env, a, b *input, owners *verify.Owners, summary, force bool) error {
	if a.Im.PageSize != b.Im.PageSize {
		return fail(exitMissing, "page sizes differ: %s has %d, %s has %d", a.path, a.Im.PageSize, b.path, b.Im.PageSize)
	}
	p := newProgress(e, force, "diff", a.Im.NumPages, "pages")
	ds, compared, err := diffImages(a.Im, b.Im, owners, p)
	p.Done()
	if err != nil {
		return fail(exitInput, "%v", err)
	}
	w := e.stdout
	if !summary {
		for _, d := range ds {
			fmt.Fprintln(w, d)
		}
	}
	fmt.Fprintf(w, "%d pages differ (%d compared; A %s, instant %d; B %s, instant %d)\n",
		len(ds), compared, a.path, a.Im.Instant, b.path, b.Im.Instant)
	if owners != nil && len(ds) > 0 {
		count := map[string]int{}
		for _, d := range ds {
			count[ownerGroup(d.Owner)]++
		}
		keys := make([]string, 0, len(count))
		for k := range count {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if count[keys[i]] != count[keys[j]] {
				return count[keys[i]] > count[keys[j]]
			}
			return keys[i] < keys[j]
		})
		fmt.Fprintln(w, "by owner:")
		for _, k := range keys {
			fmt.Fprintf(w, "  %7d  %s\n", count[k], k)
		}
	}
	if len(ds) > 0 {
		return &exitError{code: exitFound, err: errors.New("")}
	}
	return nil
}

var elfCmd = &command{
	name: "elf", args: "-o CORE (-kernel ELF | -arch amd64|arm64) [-offset N] [-progress] IMAGE", nargs: 1,
	short: "convert a complete image into an ELF core for gdb (gdb KERNEL.elf CORE)",
	long: `Elf writes an ELF core file: one PT_LOAD per captured range at its physical
address (the pagesnap kernel maps memory identity, so virtual = physical
and the kernel's symbols point at their bytes in the core) and a PT_NOTE
"PAGESNAP" with the format version, state, instant, page size and root
hash. The core's machine is the kernel ELF's (-kernel) or -arch. The image
must be complete (status 4 otherwise); run verify first to check hashes.
The core has no registers (a snapshot records memory): gdb prints globals
and follows pointers, it has no threads to backtrace.

examples:
  pagesnap elf -kernel build/pagesnap-amd64-256M.elf -o snap.core storage.img
  gdb -batch -ex "print 'github.com/pagesnap/pagesnap/kernel.Mark'" build/pagesnap-amd64-256M.elf snap.core`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f inputFlags
		addInputFlags(fs, &f, "offset")
		out := fs.String("o", "", "the core file to write (required)")
		kernel := fs.String("kernel", "", "the kernel ELF the snapshot was taken of (gives the core's machine)")
		arch := fs.String("arch", "", "the core's machine when -kernel is not given: amd64 or arm64")
		return func(e *env, args []string) error {
			if *out == "" {
				return fail(exitUsage, "elf: -o CORE is required")
			}
			var m elf.Machine
			switch {
			case *kernel != "" && *arch != "":
				return fail(exitUsage, "elf: give -kernel or -arch, not both")
			case *kernel != "":
				k, err := elf.Open(*kernel)
				if err != nil {
					return fail(exitInput, "elf: kernel: %v", err)
				}
				m = k.Machine
				k.Close()
			case *arch == "amd64":
				m = elf.EM_X86_64
			case *arch == "arm64":
				m = elf.EM_AARCH64
			case *arch != "":
				return fail(exitUsage, "elf: unknown -arch %q (amd64 or arm64)", *arch)
			default:
				return fail(exitUsage, "elf: give -kernel ELF or -arch amd64|arm64 (the core's machine)")
			}
			in, err := openImage(args[0], f.offset)
			if err != nil {
				return err
			}
			defer in.Close()
			return writeCore(e, in, *out, m, f.progress)
		}
	},
}

func writeCore(e *env, in *input, path string, m elf.Machine, force bool) error {
	im := in.Im
	if !im.Complete() || im.CopiedPages() != im.NumPages {
		return fail(exitMissing, "%s: %v: header state %v, %d of %d pages copied", in.path, elfcore.ErrIncomplete, im.State, im.CopiedPages(), im.NumPages)
	}
	f, err := os.Create(path)
	if err != nil {
		return fail(exitOutput, "%v", err)
	}
	p := newProgress(e, force, "elf", im.NumPages, "pages")
	err = elfcore.Write(f, im, elfcore.Options{Machine: m, Progress: func(d, _ uint64) { p.Set(d) }})
	p.Done()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		var pe *snapshot.PageError
		if errors.As(err, &pe) {
			return fail(exitInput, "%s: %v", in.path, err)
		}
		return fail(exitOutput, "%s: %v", path, err)
	}
	fmt.Fprintf(e.stdout, "%s: ELF core, %v, %d PT_LOAD (%s), instant %d, format version %d, %d bytes\n",
		path, m, len(im.Ranges), mib(im.NumPages*im.PageSize), im.Instant, im.Version, elfcore.Size(im))
	return nil
}

// printExclusions prints the excluded ranges the header records.
func printExclusions(w io.Writer, im *snapshot.Image) {
	if len(im.Excluded) == 0 {
		fmt.Fprintf(w, "excluded:  none\n")
		return
	}
	fmt.Fprintf(w, "excluded:  %d ranges (RAM left out of the image, and why)\n", len(im.Excluded))
	for _, e := range im.Excluded {
		fmt.Fprintf(w, "  0x%012x-0x%012x  %9s  %v\n", e.Base, e.End(), mib(e.Size), e.Reason)
	}
}
