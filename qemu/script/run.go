package script

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/disasm"
	"github.com/pagesnap/pagesnap/qemu/gdb"
	"github.com/pagesnap/pagesnap/qemu/internal/testguest"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

var regionKinds = map[string]verify.Kind{"heap": verify.Heap, "stack": verify.Stack, "dma": verify.DMA, "storage": verify.Storage, "other": verify.Other}

// Errors a run can fail with, beyond those of packages qemu, snapshot and
// verify.
var (
	// ErrGuestFault: the guest stopped on a fault (triple fault, reset)
	// while the script waited for it.
	ErrGuestFault = errors.New("script: guest fault")
	// ErrKilled: a step needed QEMU after a kill step.
	ErrKilled = errors.New("script: QEMU was killed")
	// ErrGuestRefused: the guest printed the snapshot step's failure line.
	ErrGuestRefused = errors.New("script: guest refused")
	// ErrExitCode: QEMU exited with another status than expected.
	ErrExitCode = errors.New("script: unexpected exit status")
)

// Options tune a run.
type Options struct {
	// Log receives progress and, with Verbose, console lines.
	Log     io.Writer
	Verbose bool
	// WorkDir keeps the reference image and dumps; empty: a temporary
	// directory removed after the run.
	WorkDir string
	// AfterStep, if set, is called after each successful step (tests use it
	// to inspect or to prepare guest state).
	AfterStep func(r *Run, step int) error
}

// StepResult records one executed step.
type StepResult struct {
	Index  int
	Name   string
	Line   int
	Detail string
	Err    error
}

// Result is the outcome of one script run.
type Result struct {
	Script *Script
	// Skipped is the reason the script did not run (kernel image absent).
	Skipped string
	// Err is the first failing step's error; nil when every step passed.
	Err error
	// Names are the named errors Err matches (see ErrorNames).
	Names []string
	// Verified is true when a verify step matched.
	Verified bool
	// Report is the last verification report.
	Report *verify.Report
	// Fault describes where the guest was when a step failed.
	Fault *qemu.Fault
	// ConsoleFaults decodes the instructions at program counters the guest
	// printed in its last console lines ("pc=0x…", as in Go's fault and
	// tamago's exception reports), when a step failed.
	ConsoleFaults []string
	Steps         []StepResult
	// Pass is true when the outcome is the expected one.
	Pass bool
	// Why explains Pass.
	Why string
}

// Run is the state of a script being executed.
type Run struct {
	S      *Script
	VM     *qemu.VM
	GDB    *gdb.Client
	Owners *verify.Owners
	// Guest is the built-in test guest, when Kernel is "testguest".
	Guest *testguest.Guest
	// RefPath is the reference image saved by the snapshot step, whose
	// first byte is physical address RefBase.
	RefPath string
	RefBase uint64
	Dir     string
	memPath string
	killed  bool
	opt     Options
}

func (r *Run) logf(f string, a ...any) {
	if r.opt.Log != nil {
		fmt.Fprintf(r.opt.Log, f+"\n", a...)
	}
}

// kernelPath resolves the script's kernel; skip is non-empty when the image
// is absent.
func (s *Script) kernelPath() (path, skip string) {
	k := s.Kernel
	missing := ""
	expanded := os.Expand(k, func(v string) string {
		val := os.Getenv(v)
		if val == "" && missing == "" {
			missing = v
		}
		return val
	})
	if missing != "" {
		return "", fmt.Sprintf("kernel image absent: $%s is not set (this script needs the real pagesnap kernel; build it and set %s)", missing, missing)
	}
	if !filepath.IsAbs(expanded) && s.Path != "" {
		expanded = filepath.Join(filepath.Dir(s.Path), expanded)
	}
	if _, err := os.Stat(expanded); err != nil {
		return "", fmt.Sprintf("kernel image absent: %s: %v", expanded, err)
	}
	return expanded, ""
}

// Execute runs the script and evaluates its outcome. QEMU is always killed
// before it returns.
func Execute(ctx context.Context, s *Script, opt Options) *Result {
	res := &Result{Script: s}
	if s.Kernel != "testguest" {
		if _, skip := s.kernelPath(); skip != "" {
			res.Skipped = skip
			res.Why = skip
			return res
		}
	}
	r := &Run{S: s, opt: opt}
	res.Err = r.execute(ctx, res)
	return finish(res)
}

// execute prepares the kernel and the owners map, boots QEMU, runs the
// steps and, on a failure that is not a verification, collects the
// guest's fault report. It returns the run's error.
func (r *Run) execute(ctx context.Context, res *Result) error {
	s, opt := r.S, r.opt
	var kernel string
	if s.Kernel == "testguest" {
		g, err := testguest.Build(0)
		if err != nil {
			return err
		}
		r.Guest = g
	} else {
		kernel, _ = s.kernelPath()
	}
	dir := opt.WorkDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "pagesnap-script"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	r.Dir = dir
	if r.Guest != nil {
		kernel = filepath.Join(dir, "testguest.elf")
		if err := r.Guest.WriteFile(kernel); err != nil {
			return err
		}
	} else {
		// A private copy: QEMU and the symbol table must see the same
		// bytes even if the kernel is rebuilt while the script runs.
		b, err := os.ReadFile(kernel)
		if err == nil {
			kernel = filepath.Join(dir, "kernel.elf")
			err = os.WriteFile(kernel, b, 0o644)
		}
		if err != nil {
			return fmt.Errorf("script: copying the kernel: %w", err)
		}
	}
	o, err := verify.LoadOwners(kernel)
	if err != nil {
		return err
	}
	for _, rg := range s.Regions {
		base, err := r.resolveWith(o, rg.Base)
		if err != nil {
			return err
		}
		o.Regions = append(o.Regions, verify.Region{Name: rg.Name, Kind: regionKinds[rg.Kind], Base: base, Size: uint64(rg.Size)})
	}
	r.Owners = o

	ctx, cancel := context.WithTimeout(ctx, s.Timeout.Or(5*time.Minute))
	defer cancel()
	cfg := qemu.Config{
		Arch:         qemu.Arch(s.Arch),
		Board:        s.Board,
		Accel:        s.Accel,
		MemoryMiB:    s.Memory.MiB(),
		Kernel:       kernel,
		Append:       strings.TrimSpace(s.Append + workloadArg(s.Workload)),
		Devices:      s.Devices,
		ExtraArgs:    s.QEMUArgs,
		DebugExit:    s.Arch == "amd64",
		GDB:          true,
		Paused:       true,
		ICount:       s.ICount,
		PauseOnReset: s.PauseOnFault,
	}
	if s.KeepMemory {
		f, err := os.CreateTemp("/dev/shm", "pagesnap-ram-")
		if err != nil {
			return fmt.Errorf("script: keep_memory: %w", err)
		}
		f.Close()
		os.Remove(f.Name())
		r.memPath = f.Name()
		cfg.MemPath = r.memPath
		defer os.Remove(r.memPath)
	}
	if opt.Verbose && opt.Log != nil {
		cfg.ConsoleLog = opt.Log
	}
	vm, err := qemu.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer vm.Kill()
	r.VM = vm
	if r.GDB, err = vm.GDB(); err == nil {
		err = r.GDB.Continue()
	}
	if err != nil {
		return fmt.Errorf("script: attaching the gdbstub: %w", err)
	}
	err = r.steps(ctx, res)
	if err != nil && !isVerification(err) {
		res.ConsoleFaults = consoleFaults(kernel, vm.Console.Lines(), r.Guest != nil)
		for _, f := range res.ConsoleFaults {
			r.logf("    %s", f)
		}
		if !vm.Exited() {
			if f, ferr := vm.Fault(r.Owners.Symbolize); ferr == nil {
				res.Fault = f
				if f.RunState == "shutdown" || f.RunState == "guest-panicked" || f.RunState == "internal-error" {
					err = fmt.Errorf("%w: %w (%s)", ErrGuestFault, err, f)
				}
			}
		}
	}
	return err
}

// steps runs the script's steps in order, recording each one in res, and
// returns the first failure.
func (r *Run) steps(ctx context.Context, res *Result) error {
	s := r.S
	for i := range s.Steps {
		st := &s.Steps[i]
		if ctx.Err() != nil {
			return fmt.Errorf("script: run timeout %v exceeded before step %d: %w", s.Timeout.Or(5*time.Minute), i+1, qemu.ErrTimeout)
		}
		detail, err := r.step(ctx, st, res)
		sr := StepResult{Index: i + 1, Name: st.Name(), Line: st.line, Detail: detail, Err: err}
		res.Steps = append(res.Steps, sr)
		if err == nil && r.opt.AfterStep != nil {
			err = r.opt.AfterStep(r, i)
			res.Steps[len(res.Steps)-1].Err = err
		}
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// QEMU was killed because the whole run took too long.
			err = fmt.Errorf("%w: run timeout %v exceeded (%v)", qemu.ErrTimeout, s.Timeout.Or(5*time.Minute), err)
		}
		if err != nil {
			r.logf("  step %d (line %d) %s: FAIL: %v", i+1, st.line, st.Name(), err)
			return fmt.Errorf("step %d (line %d) %s: %w", i+1, st.line, st.Name(), err)
		}
		r.logf("  step %d (line %d) %s: ok%s", i+1, st.line, st.Name(), prefix(": ", detail))
	}
	return nil
}

var pcInConsole = regexp.MustCompile(`(?i)\bpc[=: ]\s*(0x[0-9a-f]+)`)

// consoleFaults decodes the instructions at the program counters printed
// in the last 50 console lines (at most 3 distinct).
func consoleFaults(kernel string, lines []string, x86of32 bool) []string {
	if len(lines) > 50 {
		lines = lines[len(lines)-50:]
	}
	var out []string
	seen := map[uint64]bool{}
	var e *disasm.ELF
	for _, l := range lines {
		for _, m := range pcInConsole.FindAllStringSubmatch(l, -1) {
			pc, err := strconv.ParseUint(m[1], 0, 64)
			if err != nil || seen[pc] || len(seen) == 3 {
				continue
			}
			seen[pc] = true
			if e == nil {
				if e, err = disasm.OpenELF(kernel); err != nil {
					return append(out, fmt.Sprintf("console pc %#x: %v", pc, err))
				}
				if x86of32 {
					e.Mode = disasm.X86_32
				}
			}
			in, err := e.At(pc)
			if err != nil {
				out = append(out, fmt.Sprintf("console pc %#x (%q): %v", pc, l, err))
			} else {
				out = append(out, fmt.Sprintf("console pc %#x (%q): %s", pc, l, in))
			}
		}
	}
	return out
}

func prefix(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func workloadArg(w string) string {
	if w == "" {
		return ""
	}
	return " workload=" + w
}

func isVerification(err error) bool {
	return errors.Is(err, verify.ErrMismatch) || errors.Is(err, snapshot.ErrHashMismatch) ||
		errors.Is(err, snapshot.ErrRootMismatch) || errors.Is(err, snapshot.ErrIncomplete) || errors.Is(err, snapshot.ErrBadMagic)
}

// names classifies err into the named errors of ErrorNames.
func names(err error) []string {
	if err == nil {
		return nil
	}
	var n []string
	for _, c := range []struct {
		name string
		err  error
	}{
		{"mismatch", verify.ErrMismatch}, {"hash-mismatch", snapshot.ErrHashMismatch},
		{"root-mismatch", snapshot.ErrRootMismatch}, {"incomplete", snapshot.ErrIncomplete},
		{"bad-magic", snapshot.ErrBadMagic}, {"not-captured", snapshot.ErrNotCaptured},
		{"timeout", qemu.ErrTimeout}, {"exited", qemu.ErrExited}, {"killed", ErrKilled},
		{"guest-fault", ErrGuestFault}, {"refused", ErrGuestRefused},
	} {
		if errors.Is(err, c.err) {
			n = append(n, c.name)
		}
	}
	return n
}

func finish(res *Result) *Result {
	res.Names = names(res.Err)
	want := res.Script.Expect
	switch want.Result {
	case "verified":
		res.Pass = res.Err == nil && res.Verified
		if res.Err == nil && !res.Verified {
			res.Why = "expected verified, but no verify step matched"
		}
	case "ok":
		res.Pass = res.Err == nil
	case "error":
		for _, n := range res.Names {
			if n == want.Error {
				res.Pass = true
			}
		}
		if res.Err == nil {
			res.Why = "expected error " + want.Error + ", but every step passed"
		}
	}
	if res.Why == "" {
		got := "every step passed"
		if res.Verified {
			got += ", snapshot verified"
		}
		if res.Err != nil {
			got = "error " + strings.Join(res.Names, "/") + ": " + res.Err.Error()
			if len(res.Names) == 0 {
				got = "unclassified error: " + res.Err.Error()
			}
		}
		res.Why = "expected " + want.String() + "; got " + got
	}
	return res
}

func (r *Run) resolveWith(o *verify.Owners, a Addr) (uint64, error) {
	if a.Symbol == "" {
		return a.Value, nil
	}
	v, ok := o.Symbol(a.Symbol)
	if !ok {
		return 0, fmt.Errorf("script: symbol %q not in the kernel ELF", a.Symbol)
	}
	return v + a.Offset, nil
}

func (r *Run) resolve(a Addr) (uint64, error) { return r.resolveWith(r.Owners, a) }

func (r *Run) alive() error {
	if r.killed {
		return ErrKilled
	}
	if r.VM.Exited() {
		return fmt.Errorf("%w (%s)", qemu.ErrExited, r.VM.Status())
	}
	return nil
}

// stopped runs f with every vCPU stopped (gdb interrupt) and resumes after.
func (r *Run) stopped(f func() error) error {
	if err := r.alive(); err != nil {
		return err
	}
	if _, err := r.GDB.Interrupt(); err != nil {
		return r.deadErr(err)
	}
	ferr := f()
	if err := r.GDB.Continue(); err != nil {
		return errors.Join(ferr, r.deadErr(err))
	}
	return ferr
}

// deadErr prefers "QEMU exited" to the socket error it caused.
func (r *Run) deadErr(err error) error {
	select {
	case <-r.VM.Done():
		return fmt.Errorf("%w (%s): %v", qemu.ErrExited, r.VM.Status(), err)
	case <-time.After(100 * time.Millisecond):
		return err
	}
}

func (r *Run) writePhys(addr uint64, b []byte) error {
	if err := r.GDB.SetPhysical(true); err != nil {
		return err
	}
	defer r.GDB.SetPhysical(false)
	return r.GDB.WriteMemory(addr, b)
}

// action is what one script step does: every step kind is a value with
// this one method, which returns the step's detail for the log.
type action interface {
	run(ctx context.Context, r *Run, res *Result) (detail string, err error)
}

func (r *Run) step(ctx context.Context, st *Step, res *Result) (string, error) {
	a := st.action()
	if a == nil {
		return "", errors.New("script: empty step")
	}
	return a.run(ctx, r, res)
}

func (e *ExpectStep) run(_ context.Context, r *Run, _ *Result) (string, error) {
	if err := r.alive(); err != nil && !r.VM.Exited() {
		return "", err
	}
	m, err := r.VM.Console.Expect(e.Re, e.Timeout.Or(30*time.Second))
	if err != nil {
		return "", err
	}
	return strconv.Quote(m.Line), nil
}

func (s *SendStep) run(_ context.Context, r *Run, _ *Result) (string, error) {
	if err := r.alive(); err != nil {
		return "", err
	}
	return strconv.Quote(string(*s)), r.VM.Send(string(*s))
}

func (sp *SnapshotStep) run(_ context.Context, r *Run, _ *Result) (string, error) {
	return r.snapshot(sp)
}

func (w *WriteStep) run(_ context.Context, r *Run, _ *Result) (string, error) {
	addr, err := r.resolve(w.Addr)
	if err != nil {
		return "", err
	}
	b := []byte(w.Bytes)
	switch {
	case w.U32 != nil:
		b = le(uint64(*w.U32), 4)
	case w.U64 != nil:
		b = le(uint64(*w.U64), 8)
	}
	return fmt.Sprintf("%d bytes at %#x", len(b), addr), r.stopped(func() error { return r.writePhys(addr, b) })
}

func (d *DMAStep) run(_ context.Context, r *Run, _ *Result) (string, error) { return r.dma(d) }

func (s *IRQStep) run(_ context.Context, r *Run, _ *Result) (string, error) { return r.irqStorm(s) }

func (p *PauseStep) run(ctx context.Context, r *Run, _ *Result) (string, error) {
	d := time.Duration(*p)
	return d.String(), r.stopped(func() error { return sleep(ctx, d) })
}

func (p *SleepStep) run(ctx context.Context, _ *Run, _ *Result) (string, error) {
	return "", sleep(ctx, time.Duration(*p))
}

func (*KillStep) run(_ context.Context, r *Run, _ *Result) (string, error) {
	if err := r.alive(); err != nil {
		return "", err
	}
	r.killed = true
	return r.VM.Kill().String(), nil
}

func (*ResetStep) run(_ context.Context, r *Run, _ *Result) (string, error) {
	if err := r.alive(); err != nil {
		return "", err
	}
	q, err := r.VM.QMP()
	if err != nil {
		return "", err
	}
	return "", q.SystemReset()
}

func (c *CorruptStep) run(_ context.Context, r *Run, _ *Result) (string, error) { return r.corrupt(c) }

func (*VerifyStep) run(_ context.Context, r *Run, res *Result) (string, error) {
	rep, err := r.verify()
	if rep != nil {
		res.Report = rep
		r.logf("    %s", strings.ReplaceAll(rep.String(), "\n", "\n    "))
	}
	if err != nil {
		return "", err
	}
	res.Verified = true
	return fmt.Sprintf("%d pages match", rep.Matched), nil
}

func (e *ExitStep) run(_ context.Context, r *Run, _ *Result) (string, error) {
	if r.killed {
		return "", ErrKilled
	}
	s, err := r.VM.Wait(e.Timeout.Or(60 * time.Second))
	if err != nil {
		return "", fmt.Errorf("%w: %v", qemu.ErrTimeout, err)
	}
	if e.Code != nil {
		if v, ok := s.DebugExit(); !ok || v != *e.Code {
			return "", fmt.Errorf("%w: %s, want isa-debug-exit %d (status %d)", ErrExitCode, s, *e.Code, *e.Code<<1|1)
		}
	}
	if v, ok := s.DebugExit(); ok && r.S.Arch == "amd64" {
		return fmt.Sprintf("isa-debug-exit %d (%s)", v, s), nil
	}
	return s.String(), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: run timeout during sleep", qemu.ErrTimeout)
	}
}

func le(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// snapshot stops the guest at the instant symbol after typing the start
// command and saves the reference image of all RAM.
func (r *Run) snapshot(sp *SnapshotStep) (string, error) {
	if err := r.alive(); err != nil {
		return "", err
	}
	phys, ok := r.Owners.Symbol(r.S.Instant)
	if !ok {
		return "", fmt.Errorf("script: instant symbol %q not in the kernel ELF", r.S.Instant)
	}
	va := r.Owners.Virtual(phys)
	cmd := sp.Command
	if cmd == "" {
		cmd = "snap start"
	}
	var trigger func() error
	if cmd != "-" {
		trigger = func() error { return r.VM.Send(cmd) }
	}
	r.RefPath = filepath.Join(r.Dir, "reference.bin")
	// Watch the console for the failure pattern while waiting for the
	// instant; on a match, interrupt the wait.
	var failed atomic.Pointer[string]
	stop := make(chan struct{})
	if sp.Fail != "" {
		re := regexp.MustCompile(sp.Fail)
		from := len(r.VM.Console.Lines())
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				lines := r.VM.Console.Lines()
				for _, l := range lines[min(from, len(lines)):] {
					if re.MatchString(l) {
						failed.Store(&l)
						r.GDB.SendInterrupt()
						return
					}
				}
			}
		}()
	}
	var err error
	r.RefBase, err = r.VM.ReferenceAt(va, trigger, r.RefPath, sp.Timeout.Or(60*time.Second))
	close(stop)
	if l := failed.Load(); l != nil {
		return "", fmt.Errorf("%w: the guest printed %q before reaching the instant %s", ErrGuestRefused, *l, r.S.Instant)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("stopped at %s (%#x), reference image of %d MiB saved", r.S.Instant, va, r.VM.Config.MemoryMiB), nil
}

func (r *Run) dma(d *DMAStep) (string, error) {
	addr, err := r.resolve(d.Addr)
	if err != nil {
		return "", err
	}
	buf := bytes.Repeat(d.Pattern, int(uint64(d.Len)/uint64(len(d.Pattern))+1))[:d.Len]
	n := max(d.Repeat, 1)
	mode := d.Mode
	if mode == "" {
		mode = "stopped"
		if r.memPath != "" {
			mode = "concurrent"
		}
	}
	write := func() error { return r.stopped(func() error { return r.writePhys(addr, buf) }) }
	if mode == "concurrent" {
		if err := r.alive(); err != nil {
			return "", err
		}
		f, err := os.OpenFile(r.memPath, os.O_WRONLY, 0)
		if err != nil {
			return "", err
		}
		defer f.Close()
		base := r.VM.Config.Arch.RAMBase(r.VM.Config.Board)
		if addr < base || addr-base+uint64(len(buf)) > uint64(r.VM.Config.MemoryMiB)<<20 {
			return "", fmt.Errorf("script: dma [%#x, %#x) outside RAM", addr, addr+uint64(len(buf)))
		}
		// QEMU maps the file shared: a write here is seen by the running
		// vCPUs at once, with no MMU or write protection in the way.
		write = func() error { _, err := f.WriteAt(buf, int64(addr-base)); return err }
	}
	for i := 0; i < n; i++ {
		if err := write(); err != nil {
			return "", err
		}
		if d.Gap > 0 {
			time.Sleep(time.Duration(d.Gap))
		}
	}
	return fmt.Sprintf("%d × %d bytes at %#x (%s)", n, d.Len, addr, mode), nil
}

func (r *Run) irqStorm(s *IRQStep) (string, error) {
	if err := r.alive(); err != nil {
		return "", err
	}
	switch s.Kind {
	case "nmi":
		q, err := r.VM.QMP()
		if err != nil {
			return "", err
		}
		for i := 0; i < s.Count; i++ {
			if err := q.InjectNMI(); err != nil {
				return "", fmt.Errorf("nmi %d: %w", i, err)
			}
		}
	case "serial":
		if err := r.VM.Console.SendRaw(bytes.Repeat([]byte{' '}, s.Count)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d %s interrupts", s.Count, s.Kind), nil
}

// storageAddr finds the storage's physical address.
func (r *Run) storageAddr() (uint64, error) {
	sp := r.S.Storage
	if sp.Addr != nil {
		return r.resolve(*sp.Addr)
	}
	re := regexp.MustCompile(sp.Line)
	lines := r.VM.Console.Lines()
	for i := len(lines) - 1; i >= 0; i-- {
		if m := re.FindStringSubmatch(lines[i]); m != nil {
			v, err := strconv.ParseUint(m[1], 0, 64)
			if err != nil {
				return 0, fmt.Errorf("script: storage line %q: address %q: %v", lines[i], m[1], err)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("script: no console line matches storage line %q", sp.Line)
}

// storageSize reads the total size from a storage header.
func (r *Run) storageSize(hdr []byte) (uint64, error) {
	if _, err := snapshot.ReadImage(bytes.NewReader(hdr), int64(len(hdr))); err != nil && !errors.Is(err, snapshot.ErrTruncated) {
		return 0, err
	}
	size := binary.LittleEndian.Uint64(hdr[80:]) // header field "total size"
	if size < snapshot.MinPageSize || size > uint64(r.VM.Config.MemoryMiB)<<20 {
		return 0, fmt.Errorf("%w: storage size %#x", snapshot.ErrBadHeader, size)
	}
	return size, nil
}

// openStorage returns a reader over the snapshot storage: saved from the
// live guest (stopped meanwhile) to a file, or, after QEMU is gone, read
// in place from the RAM file. close releases it.
func (r *Run) openStorage() (rd io.ReaderAt, size, addr uint64, close func(), err error) {
	if addr, err = r.storageAddr(); err != nil {
		return nil, 0, 0, nil, err
	}
	if r.alive() != nil {
		if r.memPath == "" {
			return nil, 0, 0, nil, fmt.Errorf("%w; set keep_memory: true to read the storage after QEMU is gone", r.alive())
		}
		ram, err := verify.OpenPhys(r.memPath, r.VM.Config.Arch.RAMBase(r.VM.Config.Board))
		if err != nil {
			return nil, 0, 0, nil, err
		}
		hdr, err := ram.Read(addr, snapshot.MinPageSize)
		if err == nil {
			size, err = r.storageSize(hdr)
		}
		var sec *io.SectionReader
		if err == nil {
			sec, err = ram.Section(addr, size)
		}
		if err != nil {
			ram.Close()
			return nil, 0, 0, nil, err
		}
		return sec, size, addr, func() { ram.Close() }, nil
	}
	path := filepath.Join(r.Dir, "storage.bin")
	err = r.stopped(func() error {
		hdr, err := r.VM.ReadPhys(addr, snapshot.MinPageSize)
		if err != nil {
			return err
		}
		if size, err = r.storageSize(hdr); err != nil {
			return err
		}
		q, err := r.VM.QMP()
		if err != nil {
			return err
		}
		return q.Pmemsave(addr, size, path)
	})
	if err != nil {
		return nil, 0, 0, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	return f, size, addr, func() { f.Close() }, nil
}

func (r *Run) verify() (*verify.Report, error) {
	rd, size, addr, done, err := r.openStorage()
	if err != nil {
		return nil, err
	}
	defer done()
	im, err := snapshot.ReadImage(rd, int64(size))
	if err != nil {
		return nil, err
	}
	ref, err := verify.OpenPhys(r.RefPath, r.RefBase)
	if err != nil {
		return nil, err
	}
	defer ref.Close()
	o := *r.Owners
	o.Regions = append(append([]verify.Region(nil), o.Regions...), verify.Region{Name: "storage", Kind: verify.Storage, Base: addr, Size: size})
	rep := verify.Compare(ref, im, &o)
	return rep, rep.Err()
}

func (r *Run) corrupt(c *CorruptStep) (string, error) {
	page, err := r.resolve(c.Page)
	if err != nil {
		return "", err
	}
	rd, size, addr, done, err := r.openStorage()
	if err != nil {
		return "", err
	}
	defer done()
	im, err := snapshot.ReadImage(rd, int64(size))
	if err != nil {
		return "", err
	}
	i, ok := im.Layout.PageIndex(page)
	if !ok {
		return "", &snapshot.PageError{Addr: page, Err: snapshot.ErrNotCaptured}
	}
	if c.Offset < 0 || uint64(c.Offset) >= im.PageSize {
		return "", fmt.Errorf("script: corrupt offset %d outside the page", c.Offset)
	}
	off := im.Layout.DataOff + i*im.PageSize + uint64(c.Offset)
	var old [1]byte
	if _, err := rd.ReadAt(old[:], int64(off)); err != nil {
		return "", err
	}
	nb := []byte{old[0] ^ byte(c.XOR)}
	at := addr + off
	if r.alive() == nil {
		err = r.stopped(func() error { return r.writePhys(at, nb) })
	} else if r.memPath != "" {
		var f *os.File
		if f, err = os.OpenFile(r.memPath, os.O_WRONLY, 0); err == nil {
			_, err = f.WriteAt(nb, int64(at-r.VM.Config.Arch.RAMBase(r.VM.Config.Board)))
			f.Close()
		}
	} else {
		err = r.alive()
	}
	return fmt.Sprintf("storage byte %#x (page %#x offset %#x) %#02x -> %#02x", at, page&^(im.PageSize-1), c.Offset, old[0], nb[0]), err
}
