// Command pagesnap-live runs the pagesnap kernel in QEMU from the host.
//
// Usage:
//
//	pagesnap-live selftest -kernel ELF [-arch amd64|arm64] [-accel auto|tcg|kvm] [-icount]
//	pagesnap-live app -kernel ELF [-ram SIZE] [-send LINE] [-timeout D]
//	pagesnap-live bench -kernel ELF [-ram SIZE] [-icount] [-share N] [-work D] [-out DIR]
//	pagesnap-live faults -kernel ELF [-ram SIZE] [-n N]
//	pagesnap-live snapshot -kernel ELF [-ram SIZE] [-dma inuse|whole|none] [-workload cpu|sleep] [-share N] [-icount] [-work D] [-keep DIR] [-timeout D] [-machine OPTS]
//
// selftest boots kernel/cmd/selftest, checks every self-check line and the
// exit status, and prints the boot time (QEMU start to banner) and which
// accelerator ran it: TCG unless a short KVM probe boot passes ("auto",
// the default).
//
// app takes one snapshot of any application that embeds pagesnap (package
// pagesnap) and verifies it bit for bit, reading only the lines pagesnap
// prints (qemu/live.App); -send types a console line once the layout is
// printed, for applications that snapshot on a command.
//
// bench is make bench: pagesnap, QEMU's own background snapshot and
// stop-and-copy measured in one run on one guest under the never-blocking
// workload (qemu/live.Bench); it prints the table and writes it as
// markdown and a PNG plot into -out (ARCH-RAM.md, ARCH-RAM.png).
//
// faults single-steps the first N write faults of the kernel's fault probe
// through the fault handler (gdbstub) and prints the instructions each
// executed, per function (qemu/live.ProfileFaults): where a write fault's
// cost goes. Each iteration of a repeated string instruction counts as
// one, as under -icount.
//
// snapshot is the main job (make qemu): boot the pagesnap kernel with a
// virtio-rng device, start the write-heavy workload (by default the
// never-blocking one), take a live snapshot while the gdbstub stops the
// guest at the snapshot instant for a reference image, keep the workload
// running until the image is complete, verify it bit for bit against the
// reference, and print the figures: pause, completion under load vs on the
// idle machine, the drain's share of the CPU, throughput before, during and
// after. It exits 1 on
// any mismatch (with -dma none, the negative control, a mismatch is the
// expected outcome and is reported as such, exit status 0).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/bench"
	"github.com/pagesnap/pagesnap/qemu/live"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: pagesnap-live selftest|app|snapshot|bench|faults [flags] ("pagesnap-live CMD -h" for flags)`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch args[0] {
	case "selftest":
		return selftest(ctx, args[1:], stdout, stderr)
	case "snapshot":
		return snap(ctx, args[1:], stdout, stderr)
	case "app":
		return app(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "faults":
		return faultsCmd(ctx, args[1:], stdout, stderr)
	case "-h", "help", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "pagesnap-live: unknown command %q\n%s\n", args[0], usage)
	return 2
}

func selftest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("selftest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kernel := fs.String("kernel", "", "selftest kernel `ELF` (kernel/cmd/selftest)")
	arch := fs.String("arch", "amd64", "guest `arch`: amd64 or arm64")
	accel := fs.String("accel", "auto", "`accelerator`: auto (KVM only if a probe boot passes), tcg or kvm")
	icount := fs.Bool("icount", false, "under TCG, run with -icount: guest time counts instructions")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a := qemu.Arch(*arch)
	if (a != qemu.AMD64 && a != qemu.ARM64) || *kernel == "" {
		fmt.Fprintf(stderr, "pagesnap-live selftest: need -kernel ELF and -arch amd64|arm64 (got -arch %q)\n", *arch)
		return 2
	}
	if *accel != "auto" && *accel != "tcg" && *accel != "kvm" {
		fmt.Fprintf(stderr, "pagesnap-live selftest: -accel must be auto, tcg or kvm\n")
		return 2
	}
	res, err := live.Selftest(ctx, a, *kernel, *accel, *icount, prefixWriter{stdout, "guest| "})
	if res != nil {
		fmt.Fprintf(stdout, "accelerator: %s (%s)\n", res.Accel, res.KVMProbe)
		fmt.Fprintf(stdout, "boot: %v from QEMU start to banner (host wall clock); guest: %s\n", res.BootWall.Round(time.Millisecond), res.GuestBoot)
	}
	if err != nil {
		fmt.Fprintf(stdout, "selftest: FAIL: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "selftest: PASS (%d checks, %v)\n", len(res.Lines), res.ExitStatus)
	return 0
}

func snap(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o live.Options
	fs.StringVar(&o.Kernel, "kernel", "", "pagesnap kernel `ELF` (kernel/cmd/pagesnap)")
	fs.StringVar(&o.RAM, "ram", "256M", "the kernel's RAM `size` as built (make kernel RAM=SIZE: 256M, 768M, 2G ...)")
	fs.StringVar(&o.DMA, "dma", "inuse", "DMA eager `mode`: inuse, whole, or none (negative control)")
	fs.DurationVar(&o.Work, "work", 2*time.Second, "guest time of each window the workload's throughput is measured over before and after the snapshot (it runs until the image is complete)")
	fs.IntVar(&o.Windows, "windows", 3, "the before and after throughputs are the median of `N` windows")
	fs.StringVar(&o.Workload, "workload", "cpu", "the kernel's workload `mode`: cpu (never blocks) or sleep (1 ms pause per batch)")
	fs.IntVar(&o.Share, "share", 0, "the snapshot's drain share in `percent` (0: the kernel's default)")
	fs.StringVar(&o.Dir, "keep", "", "keep the reference and storage images in `DIR`")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "kill QEMU and fail after this long")
	quiet := fs.Bool("q", false, "do not copy the guest console")
	fs.BoolVar(&o.ICount, "icount", false, "run TCG with -icount (guest time counts instructions: repeatable figures)")
	machine := fs.String("machine", "", "QEMU machine `options`, comma-separated (-M board,OPTIONS), e.g. gic-version=3,secure=on on arm64 virt")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *machine != "" {
		o.Machine = strings.Split(*machine, ",")
	}
	if o.Kernel == "" {
		fmt.Fprintln(stderr, "pagesnap-live snapshot: -kernel is required")
		return 2
	}
	if o.DMA != "inuse" && o.DMA != "whole" && o.DMA != "none" {
		fmt.Fprintln(stderr, "pagesnap-live snapshot: -dma must be inuse, whole or none")
		return 2
	}
	if o.Workload != "cpu" && o.Workload != "sleep" {
		fmt.Fprintln(stderr, "pagesnap-live snapshot: -workload must be cpu or sleep")
		return 2
	}
	if !*quiet {
		o.Log = prefixWriter{stdout, "guest| "}
	}
	rep, err := live.Run(ctx, o)
	if rep != nil {
		fmt.Fprintf(stdout, "\n== pagesnap main job (ram %s, dma %s) ==\n%s", o.RAM, o.DMA, rep)
	}
	if o.DMA == "none" {
		if rep != nil && rep.Verify != nil && !rep.Verify.OK() {
			fmt.Fprintln(stdout, "negative control: the verifier rejected the image taken without the DMA eager set, as it must")
			return 0
		}
		fmt.Fprintf(stdout, "negative control: FAIL: the image without DMA pages was not rejected (%v)\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stdout, "main job: FAIL: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "main job: PASS: the snapshot is bit-identical to memory at the instant")
	return 0
}

// prefixWriter prefixes each line (writes come one line at a time from the
// console log).
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

func app(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pagesnap-live app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o live.AppOptions
	fs.StringVar(&o.Kernel, "kernel", "", "the application's ELF (embeds package pagesnap)")
	fs.StringVar(&o.RAM, "ram", "256M", "its RAM `size` as built")
	send := fs.String("send", "", "console `line` that triggers the snapshot (default: the application triggers it)")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Kernel == "" {
		fmt.Fprintln(stderr, "pagesnap-live app: -kernel is required")
		return 2
	}
	if *send != "" {
		o.Trigger = func(vm *qemu.VM) error { return vm.Send(*send) }
	}
	o.Log = prefixWriter{stderr, "guest| "}
	rep, err := live.App(ctx, o)
	if rep != nil && rep.Verify != nil {
		fmt.Fprintf(stdout, "%s\n%v\n", rep.Complete, rep.Verify)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pagesnap-live app: %v\n", err)
		return 1
	}
	return 0
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pagesnap-live bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o live.BenchOptions
	fs.StringVar(&o.Kernel, "kernel", "", "pagesnap kernel `ELF` (kernel/cmd/pagesnap)")
	fs.StringVar(&o.RAM, "ram", "256M", "the kernel's RAM `size` as built (make kernel RAM=SIZE)")
	fs.BoolVar(&o.ICount, "icount", false, "run TCG with -icount (guest time counts instructions)")
	fs.IntVar(&o.Share, "share", 0, "pagesnap's drain share in `percent` (0: the kernel's default)")
	fs.DurationVar(&o.Work, "work", 2*time.Second, "guest time each before/after throughput window is measured over")
	fs.IntVar(&o.Windows, "windows", 5, "the before and after throughputs are the median of `N` windows")
	fs.DurationVar(&o.Timeout, "timeout", 3*time.Hour, "kill QEMU and fail after this long")
	out := fs.String("out", "", "write ARCH-RAM.md and ARCH-RAM.png into `DIR` (empty: print only)")
	quiet := fs.Bool("q", false, "do not copy the guest console")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Kernel == "" {
		fmt.Fprintln(stderr, "pagesnap-live bench: -kernel is required")
		return 2
	}
	o.Log = prefixWriter{stderr, "guest| "}
	if *quiet {
		o.Log = nil
	}
	res, err := live.Bench(ctx, o)
	if res != nil {
		fmt.Fprint(stdout, res.Text())
		if *out != "" {
			if werr := writeBench(res, *out); werr != nil {
				fmt.Fprintf(stderr, "pagesnap-live bench: %v\n", werr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pagesnap-live bench: FAIL: %v\n", err)
		return 1
	}
	return 0
}

func writeBench(res *bench.Result, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := filepath.Join(dir, res.Arch+"-"+res.RAM)
	if err := os.WriteFile(name+".md", []byte(res.Markdown()), 0o644); err != nil {
		return err
	}
	return res.Plot(name + ".png")
}

func faultsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pagesnap-live faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kernel := fs.String("kernel", "", "pagesnap kernel `ELF` (kernel/cmd/pagesnap)")
	ram := fs.String("ram", "256M", "the kernel's RAM `size` as built (make kernel RAM=SIZE)")
	n := fs.Int("n", 4, "write faults to trace (1 to 16)")
	trace := fs.String("trace", "", "also write every traced instruction's address, one per line (hex), to `FILE`")
	quiet := fs.Bool("q", false, "do not copy the guest console")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *kernel == "" || *n < 1 || *n > 16 {
		fmt.Fprintln(stderr, "pagesnap-live faults: need -kernel ELF and -n from 1 to 16")
		return 2
	}
	var log io.Writer = prefixWriter{stderr, "guest| "}
	if *quiet {
		log = nil
	}
	traces, err := live.ProfileFaults(ctx, *kernel, *ram, *n, log)
	var pcs strings.Builder
	for i, t := range traces {
		fmt.Fprintf(stdout, "fault %d: %s", i+1, t)
		fmt.Fprintf(&pcs, "# fault %d\n", i+1)
		for _, pc := range t.PCs {
			fmt.Fprintf(&pcs, "%#x\n", pc)
		}
	}
	if *trace != "" {
		if werr := os.WriteFile(*trace, []byte(pcs.String()), 0o644); werr != nil {
			fmt.Fprintf(stderr, "pagesnap-live faults: %v\n", werr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pagesnap-live faults: FAIL: %v\n", err)
		return 1
	}
	return 0
}
