// Command pagesnap-stdtest runs the Go distribution's own tests of standard
// packages on GOOS=tamago under QEMU (make std-test; package qemu/stdtest):
// one line per package, "ok|FAIL pkg (time)", then "N passed, N failed";
// exit status 1 if any failed.
//
//	pagesnap-stdtest -arch amd64|arm64 -go TOOLCHAIN/bin/go [-quick] [-dir build/std-test] [-v] [-nokernel] [pkg[@RAM] ...]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/pagesnap/pagesnap/qemu/stdtest"
)

func main() {
	arch := flag.String("arch", "amd64", "amd64 or arm64")
	goBin := flag.String("go", "", "the GOOS=tamago toolchain's go binary (required)")
	dir := flag.String("dir", "build/std-test", "work directory (test binaries, blobs)")
	quick := flag.Bool("quick", false, "only the make test subset")
	verbose := flag.Bool("v", false, "print a failing package's console output")
	overlay := flag.String("overlay", "", "a go build -overlay file added to each build")
	noKernel := flag.Bool("nokernel", false, "link only the board: no kernel.Setup or tick (for packages whose tests open pagesnap themselves)")
	flag.Parse()
	if *goBin == "" {
		fmt.Fprintln(os.Stderr, "pagesnap-stdtest: -go is required")
		os.Exit(2)
	}
	mod, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pkgs := stdtest.Packages
	if *quick {
		pkgs = stdtest.Quick
	}
	if flag.NArg() > 0 {
		pkgs = nil
		for _, a := range flag.Args() {
			path, ram, _ := strings.Cut(a, "@")
			p := stdtest.Package{Path: path, RAM: ram}
			for _, q := range stdtest.Packages {
				if q.Path == path && ram == "" {
					p = q
				}
			}
			pkgs = append(pkgs, p)
		}
	}
	o := stdtest.Options{Arch: *arch, Go: *goBin, Module: mod, Dir: *dir, NoKernel: *noKernel, Overlay: *overlay}
	pass, fail := 0, 0
	for _, p := range pkgs {
		r := stdtest.Run(context.Background(), o, p)
		fmt.Println(r.Line())
		if r.Pass {
			pass++
		} else {
			fail++
			if *verbose {
				fmt.Println(r.Console)
			}
		}
	}
	fmt.Printf("%d passed, %d failed\n", pass, fail)
	if fail > 0 {
		os.Exit(1)
	}
}
