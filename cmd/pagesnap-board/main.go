// Command pagesnap-board checks a board's memory layout for a RAM size and
// writes what a kernel build and a deployment need (package board/layout):
//
//	pagesnap-board layout  -board B -ram SIZE            the plan, guest memory, largest size
//	pagesnap-board overlay -board B -ram SIZE -o F.json  go build -overlay file setting the RAM size
//	pagesnap-board flags   -board B                      go build -tags and -ldflags values
//	pagesnap-board env     -board B -ram SIZE -o F.json  the overlay, then GOARCH, TAGS, LDFLAGS, OVERLAY as shell assignments
//	pagesnap-board image   -board B -ram SIZE -kernel K -o DIR   what the platform boots
//
// A size the board cannot hold is refused with the reason and the largest
// size (exit status 2).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pagesnap/pagesnap/board/layout"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pagesnap-board layout|overlay|env|flags|image -board NAME [-ram SIZE] ...")
	fmt.Fprintln(w, "boards:", layout.Names())
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("pagesnap-board "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	board := fs.String("board", "", "board `name`")
	arch := fs.String("arch", "", "GOARCH: the default board of that arch when -board is empty")
	ram := fs.String("ram", "", "the runtime's memory `size`, e.g. 768M or 2G (default: the board's)")
	out := fs.String("o", "", "output `path` (overlay: the JSON file; image: a directory)")
	root := fs.String("root", ".", "the module root `dir`")
	kernel := fs.String("kernel", "", "kernel ELF `path` (image)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "pagesnap-board: %v\n", err)
		return 2
	}
	var b layout.Board
	var err error
	if *board == "" && *arch != "" {
		b, err = layout.Default(*arch)
	} else {
		b, err = layout.Lookup(*board)
	}
	if err != nil {
		return fail(err)
	}
	size := b.DefaultRAM
	if *ram != "" {
		if size, err = layout.ParseSize(*ram); err != nil {
			return fail(err)
		}
	}
	if args[0] == "flags" {
		fmt.Fprintf(stdout, "-tags=%q -ldflags=%q\n", b.BuildTags(), b.LinkerFlags())
		return 0
	}
	l, err := b.Plan(size)
	if err != nil {
		return fail(err)
	}
	switch args[0] {
	case "layout":
		fmt.Fprint(stdout, l)
		if why := layout.Unsupported[b.Name]; why != "" {
			fmt.Fprintf(stdout, "  not buildable here: %s\n", why)
		}
		return 0
	case "overlay", "env":
		if *out == "" {
			return fail(errors.New("overlay: -o FILE.json is required"))
		}
		if why := layout.Unsupported[b.Name]; why != "" {
			return fail(fmt.Errorf("BOARD=%s cannot be built: %s", b.Name, why))
		}
		absRoot, err := filepath.Abs(*root)
		if err != nil {
			return fail(err)
		}
		absOut, err := filepath.Abs(*out)
		if err != nil {
			return fail(err)
		}
		file, src := layout.MemSizeFile(b, size)
		gen := filepath.Join(filepath.Dir(absOut), fmt.Sprintf("mem_size-%s-%s.go", b.Name, layout.FormatSize(size)))
		js, err := layout.Overlay(absRoot, file, gen)
		if err != nil {
			return fail(err)
		}
		if err := os.MkdirAll(filepath.Dir(absOut), 0o755); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(gen, src, 0o644); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(absOut, js, 0o644); err != nil {
			return fail(err)
		}
		if args[0] == "env" {
			fmt.Fprintf(stdout, "GOARCH=%s\nTAGS='%s'\nLDFLAGS='%s'\nOVERLAY='%s'\n", b.Arch, b.BuildTags(), b.LinkerFlags(), absOut)
		}
		return 0
	case "image":
		if *out == "" || *kernel == "" {
			return fail(errors.New("image: -kernel ELF and -o DIR are required"))
		}
		files, err := writeImage(l, *kernel, *out)
		if err != nil {
			return fail(err)
		}
		for _, f := range files {
			fmt.Fprintln(stdout, f)
		}
		return 0
	}
	usage(stderr)
	return 2
}
