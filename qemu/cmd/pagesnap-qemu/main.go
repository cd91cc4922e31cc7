// Command pagesnap-qemu checks pagesnap snapshots from outside the guest:
// it runs fault-injection scripts against QEMU, verifies a snapshot image
// against a reference image of physical memory, and boots a kernel with
// its console on standard output.
//
// Usage:
//
//	pagesnap-qemu run [-v] [-keep DIR] [-require-kernel] SCRIPT|DIR...
//	pagesnap-qemu check SCRIPT|DIR...
//	pagesnap-qemu verify -image FILE [-image-addr ADDR] -ref FILE [-ref-base ADDR] [-kernel ELF] [-region KIND:NAME:BASE:SIZE]...
//	pagesnap-qemu boot -kernel ELF [-arch amd64] [-board B] [-m MiB] [-expect RE] [-timeout D] [-icount]
//
// run executes each script (a DIR means every *.yaml in it), prints a
// pass/fail report per script and a closing "N passed, N failed, N
// skipped" line, and exits 1 if any script failed. A script whose kernel
// image is absent is skipped with the reason (an error with
// -require-kernel), never passed. The script format is documented in
// package github.com/pagesnap/pagesnap/qemu/script and qemu/README.md.
//
// verify parses the snapshot storage (a file holding exactly the storage,
// or with -image-addr a RAM image whose first byte is physical address
// -ram-base, the storage being at -image-addr in it), checks its manifest
// and compares every captured page with the reference image; it prints
// every mismatching page with its owner and first differing byte and
// exits 1 on any mismatch.
//
// boot starts QEMU (TCG) with the kernel, copies the console to standard
// output, and exits when -expect matches (status 0), when the guest exits
// (the guest's isa-debug-exit value on amd64, else QEMU's status) or after
// -timeout (status 1, QEMU killed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/script"
	"github.com/pagesnap/pagesnap/qemu/verify"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: pagesnap-qemu COMMAND [flags] [args]

commands:
  run     run fault-injection scripts (files or folders of *.yaml)
  check   parse scripts and report format errors
  verify  compare a snapshot image with a reference memory image
  boot    boot a kernel under QEMU with its console on stdout

"pagesnap-qemu COMMAND -h" documents each command's flags.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	// On Ctrl-C or SIGTERM the context is cancelled: QEMU is killed and
	// temporary files (reference images) are removed before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "verify":
		return cmdVerify(args[1:], stdout, stderr)
	case "boot":
		return cmdBoot(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "pagesnap-qemu: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// scriptFiles expands folders into their *.yaml files, sorted.
func scriptFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml scripts", a)
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	return out, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "copy the guest console to the report")
	keep := fs.String("keep", "", "keep reference images and dumps under this `dir` (one sub-folder per script)")
	requireKernel := fs.Bool("require-kernel", false, "treat a script whose kernel image is absent as a failure, not a skip")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pagesnap-qemu run [flags] SCRIPT|DIR...\n\nRuns fault-injection scripts and prints a pass/fail report; exits 1 if any fails.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	files, err := scriptFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "pagesnap-qemu: %v\n", err)
		return 2
	}
	pass, fail, skip := 0, 0, 0
	for _, f := range files {
		s, err := script.ParseFile(f)
		if err != nil {
			fmt.Fprintf(stdout, "--- FAIL %s: %v\n", f, err)
			fail++
			continue
		}
		fmt.Fprintf(stdout, "=== RUN  %s: %s\n", f, s.Name)
		opt := script.Options{Log: stdout, Verbose: *verbose}
		if *keep != "" {
			opt.WorkDir = filepath.Join(*keep, strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))
			if err := os.MkdirAll(opt.WorkDir, 0o755); err != nil {
				fmt.Fprintf(stderr, "pagesnap-qemu: %v\n", err)
				return 2
			}
		}
		res := script.Execute(ctx, s, opt)
		switch {
		case res.Skipped != "" && !*requireKernel:
			fmt.Fprintf(stdout, "--- SKIP %s: %s\n", f, res.Skipped)
			skip++
		case res.Skipped != "":
			fmt.Fprintf(stdout, "--- FAIL %s: %s\n", f, res.Skipped)
			fail++
		case res.Pass:
			fmt.Fprintf(stdout, "--- PASS %s (%d steps): %s\n", f, len(res.Steps), res.Why)
			pass++
		default:
			fmt.Fprintf(stdout, "--- FAIL %s: %s\n", f, res.Why)
			if res.Fault != nil {
				fmt.Fprintf(stdout, "    %s\n", res.Fault)
			}
			for _, cf := range res.ConsoleFaults {
				fmt.Fprintf(stdout, "    %s\n", cf)
			}
			fail++
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "interrupted")
			fail++
			break
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed, %d skipped\n", pass, fail, skip)
	if fail > 0 {
		return 1
	}
	return 0
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pagesnap-qemu check SCRIPT|DIR...\n\nParses scripts without running them; exits 1 on any format error.\n")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	files, err := scriptFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "pagesnap-qemu: %v\n", err)
		return 2
	}
	rc := 0
	for _, f := range files {
		s, err := script.ParseFile(f)
		if err != nil {
			fmt.Fprintf(stdout, "%v\n", err)
			rc = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: ok: %s, %d steps, expect %s\n", f, s.Name, len(s.Steps), s.Expect)
	}
	return rc
}

// addrFlag parses 0x-prefixed or decimal addresses.
type addrFlag uint64

// String implements flag.Value.
func (a *addrFlag) String() string { return fmt.Sprintf("%#x", uint64(*a)) }

// Set implements flag.Value.
func (a *addrFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 64)
	*a = addrFlag(v)
	return err
}

type regionsFlag []verify.Region

// String implements flag.Value.
func (r *regionsFlag) String() string { return fmt.Sprint(len(*r)) }

// Set implements flag.Value.
func (r *regionsFlag) Set(s string) error {
	f := strings.Split(s, ":")
	if len(f) != 4 {
		return errors.New("want KIND:NAME:BASE:SIZE")
	}
	kinds := map[string]verify.Kind{"heap": verify.Heap, "stack": verify.Stack, "dma": verify.DMA, "storage": verify.Storage, "other": verify.Other}
	k, ok := kinds[f[0]]
	if !ok {
		return fmt.Errorf("kind %q: want heap, stack, dma, storage or other", f[0])
	}
	b, err1 := strconv.ParseUint(f[2], 0, 64)
	n, err2 := strconv.ParseUint(f[3], 0, 64)
	if err1 != nil || err2 != nil {
		return errors.New("bad BASE or SIZE")
	}
	*r = append(*r, verify.Region{Kind: k, Name: f[1], Base: b, Size: n})
	return nil
}

func cmdVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "snapshot storage `file` (or a RAM image with -image-addr)")
	var imageAddr, ramBase, refBase addrFlag
	fs.Var(&imageAddr, "image-addr", "physical `address` of the storage inside the RAM image given by -image (0: -image is the storage itself)")
	fs.Var(&ramBase, "ram-base", "physical `address` of the first byte of the -image RAM image (arm64 virt: 0x40000000)")
	ref := fs.String("ref", "", "reference image `file`: physical memory at the snapshot instant (pmemsave)")
	fs.Var(&refBase, "ref-base", "physical `address` of the reference image's first byte")
	kernel := fs.String("kernel", "", "kernel `ELF` whose sections and symbols name page owners")
	var regions regionsFlag
	fs.Var(&regions, "region", "owner region `KIND:NAME:BASE:SIZE` (kind heap, stack, dma, storage, other); repeatable")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pagesnap-qemu verify [flags]\n\nChecks a snapshot image's manifest and compares every page with a reference image; exits 1 on any mismatch.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *image == "" || *ref == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "pagesnap-qemu verify: %v\n", err); return 1 }
	img, err := verify.OpenPhys(*image, uint64(ramBase))
	if err != nil {
		return fail(err)
	}
	defer img.Close()
	sec, _ := img.Section(img.Base, img.Size)
	size := sec.Size()
	if imageAddr != 0 {
		s, err := img.Section(uint64(imageAddr), img.Base+img.Size-uint64(imageAddr))
		if err != nil {
			return fail(err)
		}
		sec, size = s, s.Size()
	} else if ramBase != 0 {
		return fail(errors.New("-ram-base needs -image-addr"))
	}
	im, err := verify.ReadImage(sec, size)
	if err != nil {
		return fail(err)
	}
	r, err := verify.OpenPhys(*ref, uint64(refBase))
	if err != nil {
		return fail(err)
	}
	defer r.Close()
	var owners *verify.Owners
	if *kernel != "" {
		if owners, err = verify.LoadOwners(*kernel); err != nil {
			return fail(err)
		}
	} else {
		owners = &verify.Owners{}
	}
	owners.Regions = regions
	rep := verify.Compare(r, im, owners)
	fmt.Fprintln(stdout, rep)
	if !rep.OK() {
		return 1
	}
	return 0
}

func cmdBoot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("boot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kernel := fs.String("kernel", "", "kernel `ELF` (amd64: with a PVH note)")
	arch := fs.String("arch", "amd64", "guest `arch`: amd64 or arm64")
	board := fs.String("board", "", "machine type (default microvm for amd64, virt for arm64)")
	mem := fs.Int("m", 128, "guest RAM in `MiB`")
	expect := fs.String("expect", "", "stop with status 0 when a console line matches this `regexp`")
	timeout := fs.Duration("timeout", 60*time.Second, "kill QEMU and fail after this long")
	icount := fs.Bool("icount", false, "run under -icount shift=0,sleep=off (deterministic guest time)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pagesnap-qemu boot -kernel ELF [flags]\n\nBoots the kernel under QEMU (TCG) and copies its console to stdout.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *kernel == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	var re *regexp.Regexp
	if *expect != "" {
		var err error
		if re, err = regexp.Compile(*expect); err != nil {
			fmt.Fprintf(stderr, "pagesnap-qemu boot: -expect: %v\n", err)
			return 2
		}
	}
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.Arch(*arch), Board: *board, MemoryMiB: *mem, Kernel: *kernel,
		DebugExit: *arch == "amd64", ICount: *icount, ConsoleLog: prefixWriter{stdout}})
	if err != nil {
		fmt.Fprintf(stderr, "pagesnap-qemu boot: %v\n", err)
		return 1
	}
	defer vm.Kill()
	if re != nil {
		if _, err := vm.Console.Expect(re, *timeout); err != nil {
			fmt.Fprintf(stderr, "pagesnap-qemu boot: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "pagesnap-qemu boot: matched %q\n", *expect)
		return 0
	}
	st, err := vm.Wait(*timeout)
	if err != nil {
		fmt.Fprintf(stderr, "pagesnap-qemu boot: %v\n", err)
		return 1
	}
	if v, ok := st.DebugExit(); ok && *arch == "amd64" {
		fmt.Fprintf(stderr, "pagesnap-qemu boot: guest exited with isa-debug-exit %d (QEMU %s)\n", v, st)
		return v
	}
	fmt.Fprintf(stderr, "pagesnap-qemu boot: QEMU %s\n", st)
	return st.Code
}

// prefixWriter strips the console log's "console: " prefix for boot.
type prefixWriter struct{ w io.Writer }

// Write implements io.Writer.
func (p prefixWriter) Write(b []byte) (int, error) {
	_, err := p.w.Write([]byte(strings.TrimPrefix(string(b), "console: ")))
	return len(b), err
}
