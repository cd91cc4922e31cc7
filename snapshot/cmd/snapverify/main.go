// Command snapverify reads a pagesnap snapshot image (a dump of the storage
// region, e.g. from QMP pmemsave, or a file written by a block device),
// prints its header (captured and excluded ranges) and checks it: every page copied, every page hash and
// the root hash. With -page ADDR it writes that page's content to stdout.
//
//	snapverify [-offset N] [-page ADDR] image
//
// Exit status: 0 verified, 1 verification failed, 2 usage or I/O error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/pagesnap/pagesnap/snapshot"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("snapverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	offset := fs.Int64("offset", 0, "byte offset of the image in the file")
	page := fs.String("page", "", "write the page at this physical address (0x... accepted) to stdout instead of verifying")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: snapverify [-offset N] [-page ADDR] image")
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *offset < 0 || *offset > st.Size() {
		fmt.Fprintf(stderr, "offset %d outside the %d-byte file\n", *offset, st.Size())
		return 2
	}
	im, err := snapshot.ReadImage(io.NewSectionReader(f, *offset, st.Size()-*offset), st.Size()-*offset)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *page != "" {
		addr, err := strconv.ParseUint(*page, 0, 64)
		if err != nil {
			fmt.Fprintf(stderr, "bad -page %q: %v\n", *page, err)
			return 2
		}
		b, err := im.Page(addr)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		stdout.Write(b)
		return 0
	}
	fmt.Fprintf(stdout, "format %d, page size %d, %d pages (%d copied), state %v, instant %d\n",
		im.Version, im.PageSize, im.NumPages, im.CopiedPages(), im.State, im.Instant)
	for _, r := range im.Ranges {
		fmt.Fprintf(stdout, "range %v\n", r)
	}
	for _, e := range im.Excluded {
		fmt.Fprintf(stdout, "excluded %v (%v)\n", e.Range, e.Reason)
	}
	if err := im.Verify(); err != nil {
		var pe *snapshot.PageError
		if errors.As(err, &pe) {
			fmt.Fprintf(stdout, "FAIL at page %#x: %v\n", pe.Addr, pe.Err)
		} else {
			fmt.Fprintf(stdout, "FAIL: %v\n", err)
		}
		return 1
	}
	root, _ := im.RootHash()
	fmt.Fprintf(stdout, "OK root %x\n", root)
	return 0
}
