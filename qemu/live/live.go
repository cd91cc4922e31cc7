// Package live drives the pagesnap kernel in QEMU from the host: the runtime
// self-check boot, and the main job — boot, start a write-heavy workload,
// take a live snapshot while the harness stops the guest at the snapshot
// instant for a reference image, let the drain finish, and verify the
// snapshot bit for bit against the reference.
//
// The kernel runs on QEMU microvm (amd64) or virt (arm64), as its ELF
// says; the arm64 kernel is built with a ram* tag so that RAM is left after
// the runtime's memory for the reserved region and the storage.
//
// Figures: under TCG, wall-clock time is emulation speed. The pause is
// measured in the guest (amd64: TSC ticks converted with the TSC frequency
// the board calibrated against the PIT; arm64: the generic timer's
// virtual counter); throughput is reported as operations
// per second of guest time and, more usefully, as the ratio during/before
// measured in the same run.
package live

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/gdb"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

// InstantSymbol is the kernel function called at the snapshot instant.
const InstantSymbol = "github.com/pagesnap/pagesnap/kernel.snapshotInstant"

// MemoryMiB returns the guest memory the amd64 pagesnap kernel built for
// ram (e.g. 256M, 768M, 2G) needs: captured RAM, the reserved region and
// storage.
func MemoryMiB(ram string) (int, error) {
	return MemoryFor(qemu.AMD64, ram)
}

// MemoryFor returns the guest memory, in MiB, the pagesnap kernel for
// arch built for ram (make kernel RAM=ram) needs on pagesnap's own QEMU
// board: the least that holds captured RAM, the reserved region and the
// storage (board/layout), rounded up to 64 MiB.
func MemoryFor(arch qemu.Arch, ram string) (int, error) {
	l, err := planFor(arch, ram)
	if err != nil {
		return 0, err
	}
	return int(layout.ImageMiB(l)), nil
}

// DiskMemoryFor returns the guest memory, in MiB, of a disk-only machine
// for a kernel of arch and RAM size ram (layout.DiskImageMiB): too little
// for an image in RAM, enough for a snapshot to disk.
func DiskMemoryFor(arch qemu.Arch, ram string) (int, error) {
	l, err := planFor(arch, ram)
	if err != nil {
		return 0, err
	}
	return int(layout.DiskImageMiB(l)), nil
}

// planFor is the layout of pagesnap's own QEMU board of arch for a kernel
// built for ram ("" is 256M).
func planFor(arch qemu.Arch, ram string) (*layout.Layout, error) {
	if ram == "" {
		ram = "256M"
	}
	b, err := layout.Default(string(arch))
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	size, err := layout.ParseSize(ram)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	l, err := b.Plan(size)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	return l, nil
}

// KernelArch returns the architecture of a kernel ELF.
func KernelArch(path string) (qemu.Arch, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return qemu.AMD64, nil
	case elf.EM_AARCH64:
		return qemu.ARM64, nil
	}
	return "", fmt.Errorf("live: %s is a %v ELF: not an amd64 or arm64 kernel", path, f.Machine)
}

// machine returns the QEMU configuration of the pagesnap kernel's board
// for arch: microvm with isa-debug-exit on amd64, virt with semihosting
// (the exit status) on arm64.
func machine(arch qemu.Arch, mem int, kernel string) (qemu.Config, error) {
	cfg := qemu.Config{Arch: arch, MemoryMiB: mem, Kernel: kernel}
	switch arch {
	case qemu.AMD64:
		cfg.Board, cfg.DebugExit = "microvm", true
	case qemu.ARM64:
		cfg.Board, cfg.CPU = "virt", "max"
		cfg.ExtraArgs = []string{"-semihosting-config", "enable=on,target=native"}
	default:
		return cfg, fmt.Errorf("live: unknown arch %q (amd64 or arm64)", arch)
	}
	return cfg, nil
}

// Options configure one main-job run.
type Options struct {
	Kernel string // kernel ELF (kernel/cmd/pagesnap)
	// Arch is the kernel's architecture; empty: read from the ELF header.
	Arch qemu.Arch
	RAM  string // the kernel's RAM size as built (make kernel RAM=...): 256M, 768M, 2G ...
	// DMA is the snapshot's DMA mode: inuse (default), whole or none
	// (none is the negative control: verification must fail).
	DMA string
	// Work is how long each window of the workload's throughput is
	// measured over before and after the snapshot (it runs throughout,
	// until the image is complete).
	Work time.Duration
	// Windows is how many windows the before and after figures are the
	// median of (0: 3).
	Windows int
	// Workload is the kernel's workload mode: "cpu" (default: never
	// blocks, the machine never idles) or "sleep" (pauses 1 ms per batch).
	Workload string
	// Share is the snapshot's drain share in percent (0: the kernel's
	// default).
	Share int
	// Timeout bounds the whole run; QEMU is killed when it expires.
	Timeout time.Duration
	// Dir keeps the reference and storage images (default: a temporary
	// directory, removed afterwards).
	Dir string
	// Log receives console lines and progress (nil: discarded).
	Log io.Writer
	// NoRNG leaves out the virtio-rng device.
	NoRNG bool
	// ICount runs TCG with -icount shift=0,sleep=off: guest time counts
	// executed instructions (1 ns each), so pause figures repeat from run
	// to run whatever the host's load.
	ICount bool
	// Machine are options of the QEMU machine (-M board,opt), e.g.
	// "gic-version=3" (a GICv3) or "secure=on" (entered at EL3) on
	// arm64 virt.
	Machine []string
}

// Report is the outcome of a main-job run.
type Report struct {
	Layout      Layout
	Started     string  // the kernel's "snap: started" line
	Complete    string  // the kernel's "snap: complete" line
	GuestVerify string  // the kernel's "snap verify" answer
	PauseMicros float64 // guest-measured pause of the verified snapshot (includes the stop at the instant)
	// PauseUnobserved is the pause of a second snapshot taken with no
	// debugger stop: the figure to quote.
	PauseUnobserved float64
	EagerPages      uint64
	EntriesTouched  uint64
	Faults          uint64
	Drained         uint64
	Total           string // guest time from start to complete image
	// TotalLoad is the completion time (guest) of a snapshot taken with no
	// debugger stop under the same load; TotalIdle that of one taken on
	// the idle machine (workload stopped).
	TotalLoad, TotalIdle time.Duration
	// Share is the share setting; DrainShare, TickShare and IdleShare are
	// the CPU the drain actually got (all of it, from the timer tick, from
	// the idle hook), as fractions of the time from start to complete.
	Share                            string
	DrainShare, TickShare, IdleShare float64
	Workload                         string
	Before, During, After            Rate
	// Before and After are medians of Windows windows; BeforeRange and
	// AfterRange are their windows' lowest and highest writes/s.
	Windows                 int
	BeforeRange, AfterRange [2]float64
	// DMAIRQs is the number of completion interrupts the DMA device
	// (virtio-rng) raised during the capture, DMAWakes the number of the
	// driver's waits they ended early (the interrupt woke the pump).
	DMAIRQs, DMAWakes uint64
	// IdleIRQs and IdleWakes are the same during the snapshot on the idle
	// machine (workload stopped), where the processor idles and the
	// interrupt's wake ends the pump's waits.
	IdleIRQs, IdleWakes uint64
	Verify              *verify.Report
	Arch                qemu.Arch
	Accel               string
	Wall                time.Duration
}

// Rate is workload throughput in operations per second of guest time.
type Rate struct {
	Allocs, Writes float64
}

// Layout is the memory plan the kernel printed.
type Layout = lines.Layout

// layoutRE finds the layout: line (lines.Layout); ParseLayout reads it.
var layoutRE = regexp.MustCompile(regexp.QuoteMeta(lines.LayoutPrefix) + " ")

// waitLayout waits for the layout: line a kernel prints when pagesnap is
// set up (pagesnap.Open) and parses it.
func waitLayout(vm *qemu.VM) (Layout, error) {
	m, err := vm.Console.Expect(layoutRE, 5*time.Minute)
	if err != nil {
		return Layout{}, err
	}
	return ParseLayout(m.Line)
}

// waitReady is waitLayout, then the pagesnap kernel's ready line (its
// console takes commands).
func waitReady(vm *qemu.VM) (Layout, error) {
	l, err := waitLayout(vm)
	if err != nil {
		return l, err
	}
	_, err = vm.Console.ExpectString("pagesnap: ready", time.Minute)
	return l, err
}

// ParseLayout parses the kernel's layout line.
func ParseLayout(line string) (Layout, error) {
	l, err := lines.ParseLayout(line)
	if err != nil {
		return Layout{}, fmt.Errorf("live: %w", err)
	}
	if l.Storage.Size == 0 {
		return l, errors.New("live: the kernel found no RAM for the snapshot storage")
	}
	return l, nil
}

// symbol returns the address of a symbol in an ELF file.
func symbol(path, name string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return 0, err
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value, nil
		}
	}
	return 0, fmt.Errorf("live: %s has no symbol %s", path, name)
}

// workRE finds the pagesnap kernel's work stats line (lines.Work).
var workRE = regexp.MustCompile(regexp.QuoteMeta(lines.WorkPrefix) + " ")

type workSample struct {
	allocs, writes uint64
	t              int64
	dmaIRQs        uint64 // interrupts the DMA device raised so far
	dmaWakes       uint64 // waits of its driver they ended early so far
}

func sampleWork(vm *qemu.VM) (workSample, error) {
	if err := vm.Send("work stats"); err != nil {
		return workSample{}, err
	}
	m, err := vm.Console.Expect(workRE, 2*time.Minute)
	if err != nil {
		return workSample{}, err
	}
	return parseWorkSample(m.Line)
}

func parseWorkSample(line string) (workSample, error) {
	w, err := lines.ParseWork(line)
	if err != nil {
		return workSample{}, err
	}
	return workSample{w.Allocs, w.Writes, w.T, w.DMAIRQs, w.DMAWakes}, nil
}

func rate(a, b workSample) Rate {
	dt := float64(b.t-a.t) / 1e9
	if dt <= 0 {
		return Rate{}
	}
	return Rate{Allocs: float64(b.allocs-a.allocs) / dt, Writes: float64(b.writes-a.writes) / dt}
}

// windowRate measures the workload's throughput over n consecutive
// windows of d guest time each and returns their median (allocs and
// writes each) and the lowest and highest writes/s: one window moves by a
// few percent with where the workload's GC cycles fall.
func windowRate(vm *qemu.VM, d time.Duration, n int) (median Rate, writes [2]float64, err error) {
	rs := make([]Rate, 0, n)
	a, err := sampleWork(vm)
	if err != nil {
		return median, writes, err
	}
	for len(rs) < n {
		time.Sleep(d / 4)
		b, err := sampleWork(vm)
		if err != nil {
			return median, writes, err
		}
		if time.Duration(b.t-a.t) >= d {
			rs = append(rs, rate(a, b))
			a = b
		}
	}
	med := func(f func(Rate) float64) (m, lo, hi float64) {
		v := make([]float64, n)
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[n/2], v[0], v[n-1]
	}
	median.Allocs, _, _ = med(func(r Rate) float64 { return r.Allocs })
	median.Writes, writes[0], writes[1] = med(func(r Rate) float64 { return r.Writes })
	return median, writes, nil
}

// guestSleep waits about d of guest time, measured by the guest clock
// through two work samples (TCG runs slower than real time).
func guestSleep(vm *qemu.VM, d time.Duration) (workSample, workSample, error) {
	a, err := sampleWork(vm)
	if err != nil {
		return a, a, err
	}
	for {
		time.Sleep(d / 4)
		b, err := sampleWork(vm)
		if err != nil || time.Duration(b.t-a.t) >= d {
			return a, b, err
		}
	}
}

var (
	startedRE  = regexp.MustCompile(regexp.QuoteMeta(lines.StartedPrefix) + " ")
	completeRE = regexp.MustCompile(regexp.QuoteMeta(lines.CompletePrefix) + " ")
	verifyRE   = regexp.MustCompile(regexp.QuoteMeta(lines.VerifiedPrefix) + " |error: ")
	errorRE    = regexp.MustCompile(`error: (.*)`)
)

// Run performs the main job once and returns its report. A verification
// failure is reported in Report.Verify (and Run returns the report with a
// non-nil error wrapping it), so the negative control can inspect it.
func Run(ctx context.Context, o Options) (rep *Report, err error) {
	if o.Work == 0 {
		o.Work = 2 * time.Second
	}
	if o.Windows == 0 {
		o.Windows = 3
	}
	if o.Windows < 0 {
		return nil, fmt.Errorf("live: %d throughput windows: want at least 1", o.Windows)
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Minute
	}
	if o.DMA == "" {
		o.DMA = "inuse"
	}
	if o.Workload == "" {
		o.Workload = "cpu"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	t, err := resolveTarget(o.Kernel, o.Arch, o.RAM)
	if err != nil {
		return nil, err
	}
	arch, instant := t.arch, t.instant
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pagesnap-live-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	wall := time.Now()
	vm, g, err := startVM(ctx, t, o.Kernel, o.Log, rngDevices(o.NoRNG), func(c *qemu.Config) {
		c.ICount = o.ICount
		c.MachineOpts = append(c.MachineOpts, o.Machine...)
	})
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	defer func() {
		// A fatal fault in the guest explains most failures: decode it.
		if err != nil {
			if l := fatalRE.FindString(vm.Console.Output()); l != "" {
				if f, ferr := ParseFatalFault(l, o.Kernel); ferr == nil {
					err = fmt.Errorf("%w\n%s", err, f)
				}
			}
		}
	}()
	rep = &Report{Arch: arch, Accel: "tcg"}
	if o.ICount {
		rep.Accel = "tcg -icount shift=0,sleep=off (guest time = instructions)"
	}
	// The gdbstub may hold the guest stopped; make sure it runs.
	g.Continue()

	if rep.Layout, err = waitReady(vm); err != nil {
		return nil, err
	}
	rep.Workload = o.Workload
	if err := vm.Send(workStart(o.Workload)); err != nil {
		return nil, err
	}
	// Warm up (the workload allocates its array and the heap grows), then
	// measure the throughput before the snapshot.
	if _, _, err := guestSleep(vm, o.Work/2); err != nil {
		return nil, err
	}
	rep.Windows = o.Windows
	if rep.Before, rep.BeforeRange, err = windowRate(vm, o.Work, o.Windows); err != nil {
		return nil, err
	}

	// The reference: stop at the instant, save the captured span.
	span := snapshot.Range{Base: rep.Layout.Captured[0].Base}
	last := rep.Layout.Captured[len(rep.Layout.Captured)-1]
	span.Size = last.End() - span.Base
	refPath := filepath.Join(dir, "reference.bin")
	start := snapStart(o.DMA, o.Share, false)
	if err := vm.ReferenceRangeAt(instant, func() error { return vm.Send(start) }, span, refPath, referenceTimeout); err != nil {
		return nil, err
	}
	sm, err := expectStarted(vm)
	if err != nil {
		return nil, err
	}
	rep.Started = sm
	st, err := lines.ParseStarted(sm)
	if err != nil {
		return nil, err
	}
	rep.PauseMicros, rep.EagerPages, rep.EntriesTouched = st.PauseMicros, st.Eager, st.EntriesTouched
	rep.Share = strconv.Itoa(st.Share) + "%"
	// The workload runs until the image is complete: the throughput
	// during is measured over the whole capture.
	d0, err := sampleWork(vm)
	if err != nil {
		return nil, err
	}
	cm, err := vm.Console.Expect(completeRE, o.Timeout)
	if err != nil {
		return nil, err
	}
	d1, err := sampleWork(vm)
	if err != nil {
		return nil, err
	}
	rep.During = rate(d0, d1)
	rep.DMAIRQs, rep.DMAWakes = d1.dmaIRQs-d0.dmaIRQs, d1.dmaWakes-d0.dmaWakes
	rep.Complete = cm.Line
	cl, err := lines.ParseComplete(cm.Line)
	if err != nil {
		return nil, err
	}
	rep.Faults, rep.Drained, rep.Total = cl.Faults, cl.Drained, cl.Total.String()
	rep.DrainShare, rep.TickShare, rep.IdleShare = cl.DrainShare, cl.TickShare, cl.IdleShare
	if rep.After, rep.AfterRange, err = windowRate(vm, o.Work, o.Windows); err != nil {
		return nil, err
	}
	if err := vm.Send("snap verify"); err != nil {
		return nil, err
	}
	vm2, err := vm.Console.Expect(verifyRE, o.Timeout) // the workload still runs: the check gets its share of the CPU
	if err != nil {
		return nil, err
	}
	rep.GuestVerify = vm2.Line

	// The image, read out of guest memory.
	imgPath := filepath.Join(dir, "storage.bin")
	if err := vm.Stopped(func(*gdb.Client) error {
		q, err := vm.QMP()
		if err != nil {
			return err
		}
		return q.Pmemsave(rep.Layout.Storage.Base, rep.Layout.Storage.Size, imgPath)
	}); err != nil {
		return nil, err
	}
	// The pause of the verified snapshot includes the harness's stop at
	// the instant (resuming from a gdbstub stop costs guest time, notably
	// under -icount): a second snapshot under the same load with no
	// debugger stop gives the pause and completion figures to quote; a
	// third on the idle machine (workload stopped) the idle completion.
	if rep.PauseUnobserved, rep.EagerPages, rep.EntriesTouched, rep.TotalLoad, err = unobserved(vm, snapStart(o.DMA, o.Share, true), o.Timeout); err != nil {
		return nil, err
	}
	if err := vm.Send("work stop"); err != nil {
		return nil, err
	}
	wm, err := vm.Console.Expect(workRE, time.Minute)
	if err != nil {
		return nil, err
	}
	i0, err := parseWorkSample(wm.Line)
	if err != nil {
		return nil, err
	}
	if _, _, _, rep.TotalIdle, err = unobserved(vm, snapStart(o.DMA, o.Share, true), o.Timeout); err != nil {
		return nil, err
	}
	i1, err := sampleWork(vm)
	if err != nil {
		return nil, err
	}
	rep.IdleIRQs, rep.IdleWakes = i1.dmaIRQs-i0.dmaIRQs, i1.dmaWakes-i0.dmaWakes
	vm.Send("exit 0")
	vm.Wait(time.Minute)
	rep.Wall = time.Since(wall)

	rep.Verify, err = compare(refPath, span.Base, imgPath, o.Kernel, rep.Layout)
	if err != nil {
		return rep, err
	}
	if !rep.Verify.OK() {
		return rep, fmt.Errorf("live: snapshot does not match the reference: %w", rep.Verify.Err())
	}
	return rep, nil
}

// workStart is the console command that starts the workload in mode.
func workStart(mode string) string {
	if mode == "sleep" {
		return "work start"
	}
	return "work start cpu"
}

// snapStart is the console command that starts a snapshot.
func snapStart(dma string, share int, overwrite bool) string {
	c := "snap start " + dma
	if share != 0 {
		c += fmt.Sprintf(" share=%d%%", share)
	}
	if overwrite {
		c += " overwrite"
	}
	return c
}

// expectStarted waits for the kernel's answer to snap start: the started
// line, or an error.
func expectStarted(vm *qemu.VM) (string, error) {
	sm, err := vm.Console.Expect(regexp.MustCompile(startedRE.String()+`|error: .*`), 5*time.Minute)
	if err != nil {
		return "", err
	}
	if em := errorRE.FindStringSubmatch(sm.Line); em != nil {
		return "", fmt.Errorf("live: snap start: %s", em[1])
	}
	return sm.Line, nil
}

// unobserved takes a snapshot with no debugger stop and waits for it to
// complete: pause (us), eager pages, entries touched, completion time.
func unobserved(vm *qemu.VM, cmd string, timeout time.Duration) (pause float64, eager, entries uint64, total time.Duration, err error) {
	if err = vm.Send(cmd); err != nil {
		return
	}
	line, err := expectStarted(vm)
	if err != nil {
		return
	}
	st, err := lines.ParseStarted(line)
	if err != nil {
		return
	}
	pause, eager, entries = st.PauseMicros, st.Eager, st.EntriesTouched
	cm, err := vm.Console.Expect(completeRE, timeout)
	if err != nil {
		return
	}
	cl, err := lines.ParseComplete(cm.Line)
	if err != nil {
		return
	}
	total = cl.Total
	return
}

// referenceTimeout bounds the wait for the snapshot instant (TCG).
const referenceTimeout = 10 * time.Minute

func compare(refPath string, refBase uint64, imgPath, kernel string, l Layout) (*verify.Report, error) {
	ref, err := verify.OpenPhys(refPath, refBase)
	if err != nil {
		return nil, err
	}
	defer ref.Close()
	f, err := os.Open(imgPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	im, err := verify.ReadImage(f, st.Size())
	if err != nil {
		return nil, err
	}
	owners, err := verify.LoadOwners(kernel)
	if err != nil {
		return nil, err
	}
	owners.Regions = append(owners.Regions, verify.Region{Kind: verify.DMA, Name: "dma window", Base: l.DMA.Base, Size: l.DMA.Size})
	return verify.Compare(ref, im, owners), nil
}

// windows describes a throughput that is the median of r.Windows windows
// whose writes/s ranged over rng, relative to the median m.
func (r *Report) windows(rng [2]float64, m float64) string {
	if r.Windows <= 1 || m <= 0 {
		return "one window"
	}
	return fmt.Sprintf("median of %d windows, writes %.2f-%.2fx of it", r.Windows, rng[0]/m, rng[1]/m)
}

// String prints the report for people.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "captured:          ")
	var total uint64
	for _, c := range r.Layout.Captured {
		fmt.Fprintf(&b, "%#x-%#x ", c.Base, c.End())
		total += c.Size
	}
	fmt.Fprintf(&b, "(%d MiB)\n", total>>20)
	fmt.Fprintf(&b, "storage:           %#x+%#x\n", r.Layout.Storage.Base, r.Layout.Storage.Size)
	clock := "the PIT-calibrated TSC"
	if r.Arch == qemu.ARM64 {
		clock = "the generic timer's virtual counter"
	}
	fmt.Fprintf(&b, "accelerator:       %s (pause measured in the guest with %s; under TCG that is emulation time)\n", r.Accel, clock)
	fmt.Fprintf(&b, "pause:             %.1f us (interrupts off: eager copy of %d pages + protecting %d page-table entries; a snapshot with no debugger stop)\n", r.PauseUnobserved, r.EagerPages, r.EntriesTouched)
	fmt.Fprintf(&b, "pause (verified):  %.1f us (the verified snapshot: includes resuming from the harness's stop at the instant)\n", r.PauseMicros)
	fmt.Fprintf(&b, "faults taken:      %d\n", r.Faults)
	fmt.Fprintf(&b, "pages drained:     %d\n", r.Drained)
	fmt.Fprintf(&b, "workload:          %s (%s)\n", r.Workload, map[bool]string{true: "never blocks: two spinning writers, GC churn without pauses, virtio-rng DMA", false: "sleeps 1 ms per batch"}[r.Workload != "sleep"])
	fmt.Fprintf(&b, "total (guest):     %s from the instant to the complete image (verified snapshot, under load)\n", r.Total)
	fmt.Fprintf(&b, "completion:        %v under load, %v on the idle machine: %.2fx (share setting %s: bound 1/share = %.1fx)\n",
		r.TotalLoad, r.TotalIdle, ratio(float64(r.TotalLoad), float64(r.TotalIdle)), r.Share, 100/shareValue(r.Share))
	fmt.Fprintf(&b, "drain share:       %.1f%% of the CPU from start to complete (timer tick %.1f%%, idle %.1f%%)\n", r.DrainShare, r.TickShare, r.IdleShare)
	fmt.Fprintf(&b, "workload before:   %.0f allocs/s, %.0f writes/s (guest time; %s)\n", r.Before.Allocs, r.Before.Writes, r.windows(r.BeforeRange, r.Before.Writes))
	fmt.Fprintf(&b, "workload during:   %.0f allocs/s, %.0f writes/s (%.2fx / %.2fx of before; over the whole capture)\n", r.During.Allocs, r.During.Writes,
		ratio(r.During.Allocs, r.Before.Allocs), ratio(r.During.Writes, r.Before.Writes))
	fmt.Fprintf(&b, "workload after:    %.0f allocs/s, %.0f writes/s (%.2fx / %.2fx of before; %s)\n", r.After.Allocs, r.After.Writes,
		ratio(r.After.Allocs, r.Before.Allocs), ratio(r.After.Writes, r.Before.Writes), r.windows(r.AfterRange, r.After.Writes))
	if !strings.Contains(r.Accel, "icount") {
		fmt.Fprintf(&b, "                   (TCG without -icount: rates in emulation speed; the amd64 writers ran about 3.5x faster after\n"+
			"                   a boot's first snapshot than before it, with or without the gdbstub: an emulation effect, see\n"+
			"                   README; under -icount, make bench, before and after agree within the windows' spread)\n")
	}
	fmt.Fprintf(&b, "DMA interrupts:    %d virtio-rng completion interrupts during the capture, %d of the driver's waits ended early by them (%d and %d during the snapshot on the idle machine)\n",
		r.DMAIRQs, r.DMAWakes, r.IdleIRQs, r.IdleWakes)
	fmt.Fprintf(&b, "guest self-check:  %s\n", r.GuestVerify)
	if r.Verify != nil {
		fmt.Fprintf(&b, "host verification: %s\n", strings.TrimSpace(r.Verify.String()))
	}
	fmt.Fprintf(&b, "wall time:         %v\n", r.Wall.Round(time.Millisecond))
	return b.String()
}

// shareValue parses "20%".
func shareValue(s string) float64 {
	v, _ := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if v == 0 {
		return 100
	}
	return v
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// BackToBack boots the kernel, starts the workload and takes n snapshots
// in a row, each started as soon as the previous one is complete (snap
// start overwrite), each verified bit for bit against its own reference
// taken at its instant. It returns the verification reports, one per
// snapshot, and stops at the first failure.
func BackToBack(ctx context.Context, o Options, n int) ([]*verify.Report, error) {
	return RunScenario(ctx, o, Scenario{Workload: o.Workload, Shots: make([]Shot, n)})
}

// Scenario is a boot of the kernel with a workload and the snapshots taken
// under it, one after the other (RunScenario).
type Scenario struct {
	// Workload is "cpu" (never blocks), "sleep" (pauses 1 ms per batch)
	// or "none" (no workload); "" means cpu.
	Workload string
	// NoRNG leaves out the virtio-rng device (no DMA at all).
	NoRNG bool
	// Shots are the snapshots, in order; each one after the first
	// overwrites the previous image.
	Shots []Shot
}

// Shot is one snapshot of a scenario.
type Shot struct {
	// Delay is how long to wait (host time) before snap start: the moment
	// of the start in the workload.
	Delay time.Duration
	// DMA is the eager-set mode: "inuse" (default) or "whole".
	DMA string
	// Share is the drain share in percent (0: Options.Share).
	Share int
	// NoGuard starts the snapshot without the DMA allocation guard (a
	// negative control: the verification is expected to fail).
	NoGuard bool
	// Before are console commands sent before snap start (e.g. "tick
	// hz=2000"); After, commands sent as soon as the snapshot started
	// (e.g. "dma hog 3072").
	Before, After []string
	// Noise is how many console commands ("snap status") are sent while
	// the snapshot captures.
	Noise int
}

// command is the snap start command of the shot (the i-th of the run).
func (sh Shot) command(o Options, i int) string {
	dma, share := sh.DMA, sh.Share
	if dma == "" {
		dma = o.DMA
	}
	if share == 0 {
		share = o.Share
	}
	c := snapStart(dma, share, i > 0)
	if sh.NoGuard {
		c += " noguard"
	}
	return c
}

// RunScenario boots the kernel, starts the scenario's workload and takes
// its snapshots in a row, each verified bit for bit against its own
// reference taken at its instant. It returns the verification reports, one
// per snapshot, and stops at the first failure (the failing report is the
// last one returned).
func RunScenario(ctx context.Context, o Options, sc Scenario) (reps []*verify.Report, err error) {
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Minute
	}
	if o.DMA == "" {
		o.DMA = "inuse"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	t, err := resolveTarget(o.Kernel, o.Arch, o.RAM)
	if err != nil {
		return nil, err
	}
	instant := t.instant
	dir, err := os.MkdirTemp(o.Dir, "pagesnap-b2b-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	vm, g, err := startVM(ctx, t, o.Kernel, o.Log, rngDevices(sc.NoRNG), nil)
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	g.Continue()
	l, err := waitReady(vm)
	if err != nil {
		return nil, err
	}
	if sc.Workload != "none" {
		if err := vm.Send(workStart(sc.Workload)); err != nil {
			return nil, err
		}
		if _, err := vm.Console.Expect(workRE, time.Minute); err != nil {
			return nil, err
		}
	}
	span := snapshot.Range{Base: l.Captured[0].Base}
	span.Size = l.Captured[len(l.Captured)-1].End() - span.Base
	refPath, imgPath := filepath.Join(dir, "reference.bin"), filepath.Join(dir, "storage.bin")
	n := len(sc.Shots)
	for i, sh := range sc.Shots {
		for _, c := range sh.Before {
			if err := vm.Send(c); err != nil {
				return reps, err
			}
		}
		if sh.Delay > 0 {
			select {
			case <-time.After(sh.Delay):
			case <-ctx.Done():
				return reps, ctx.Err()
			}
		}
		cmd := sh.command(o, i)
		if err := vm.ReferenceRangeAt(instant, func() error { return vm.Send(cmd) }, span, refPath, referenceTimeout); err != nil {
			return reps, fmt.Errorf("snapshot %d: %w", i+1, err)
		}
		if _, err := expectStarted(vm); err != nil {
			return reps, fmt.Errorf("snapshot %d: %w", i+1, err)
		}
		for _, c := range sh.After {
			if err := vm.Send(c); err != nil {
				return reps, err
			}
		}
		for range sh.Noise {
			if err := vm.Send("snap status"); err != nil {
				return reps, err
			}
		}
		if _, err := vm.Console.Expect(completeRE, o.Timeout); err != nil {
			return reps, fmt.Errorf("snapshot %d: %w", i+1, err)
		}
		if err := vm.Stopped(func(*gdb.Client) error {
			q, err := vm.QMP()
			if err != nil {
				return err
			}
			return q.Pmemsave(l.Storage.Base, l.Storage.Size, imgPath)
		}); err != nil {
			return reps, err
		}
		rep, err := compare(refPath, span.Base, imgPath, o.Kernel, l)
		if err != nil {
			return reps, fmt.Errorf("snapshot %d: %w", i+1, err)
		}
		reps = append(reps, rep)
		if !rep.OK() {
			return reps, fmt.Errorf("live: snapshot %d of %d does not match its reference: %w", i+1, n, rep.Err())
		}
		fmt.Fprintf(o.Log, "scenario: snapshot %d/%d verified: %d pages match the reference at its instant\n", i+1, n, rep.Matched)
	}
	vm.Send("exit 0")
	vm.Wait(time.Minute)
	return reps, nil
}

// target is what every harness entry point derives from a kernel before it
// boots it: its architecture (from the ELF when arch is empty), the QEMU
// memory for its RAM size and the address of its snapshot instant.
type target struct {
	arch    qemu.Arch
	mem     int
	instant uint64
}

func resolveTarget(kernel string, arch qemu.Arch, ram string) (t target, err error) {
	if arch == "" {
		if arch, err = KernelArch(kernel); err != nil {
			return t, err
		}
	}
	t.arch = arch
	if t.mem, err = MemoryFor(arch, ram); err != nil {
		return t, err
	}
	t.instant, err = symbol(kernel, InstantSymbol)
	return t, err
}

// startVM boots kernel on t's machine with the gdbstub on and the console
// copied to log, plus devices (virtio-mmio devices in modern mode), after
// set adjusts the configuration (nil: nothing more). It returns the VM and
// its gdb connection; the caller kills the VM.
func startVM(ctx context.Context, t target, kernel string, log io.Writer, devices []string, set func(*qemu.Config)) (*qemu.VM, *gdb.Client, error) {
	cfg, err := machine(t.arch, t.mem, kernel)
	if err != nil {
		return nil, nil, err
	}
	cfg.GDB, cfg.ConsoleLog = true, log
	if len(devices) > 0 {
		cfg.Devices = append(cfg.Devices, devices...)
		cfg.ExtraArgs = append(cfg.ExtraArgs, "-global", "virtio-mmio.force-legacy=false")
	}
	if set != nil {
		set(&cfg)
	}
	vm, err := qemu.Start(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	g, err := vm.GDB()
	if err != nil {
		vm.Kill()
		return nil, nil, err
	}
	return vm, g, nil
}

// rngDevices is the device list of a run with (noRNG false) or without the
// virtio-rng device.
func rngDevices(noRNG bool) []string {
	if noRNG {
		return nil
	}
	return []string{"virtio-rng-device"}
}
