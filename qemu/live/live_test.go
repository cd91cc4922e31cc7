package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/disasm"
	"github.com/pagesnap/pagesnap/snapshot"
)

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// lockedBuffer collects console output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func kernelFor(t *testing.T, env string) string {
	k := os.Getenv(env)
	if k == "" {
		qemu.Missing(t, "%s is not set: `make test` builds the kernels and sets it", env)
	}
	if _, err := os.Stat(k); err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return k
}

// TestSelftest boots the runtime self-check kernel and asserts every check
// line, PASS and the exit status (isa-debug-exit 0).
func TestSelftest(t *testing.T) {
	k := kernelFor(t, "PAGESNAP_SELFTEST_AMD64")
	// -icount: the 100 ms sleep check measures guest time, not the host's
	// scheduling of the emulator.
	res, err := Selftest(context.Background(), qemu.AMD64, k, "tcg", true, logWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if want := SelftestChecksFor(qemu.AMD64); len(res.Lines) != len(want) {
		t.Fatalf("got %d check lines, want %d", len(res.Lines), len(want))
	}
	t.Logf("boot to banner: %v (wall), guest %s", res.BootWall, res.GuestBoot)
}

func pagesOf(rs []snapshot.Range) uint64 {
	var n uint64
	for _, r := range rs {
		n += r.Size / 4096
	}
	return n
}

// testShare is the drain share the QEMU tests use: higher than the
// default so that a snapshot under the never-blocking workload completes
// in minutes under TCG; make qemu shows the default.
const testShare = 50

func runMain(t *testing.T, env, ram, dma, workload string) (*Report, error) {
	k := kernelFor(t, env)
	rep, err := Run(context.Background(), Options{Kernel: k, RAM: ram, DMA: dma, Work: time.Second, Timeout: 60 * time.Minute,
		Workload: workload, Share: testShare})
	if rep != nil {
		t.Logf("\n%s", rep)
	}
	return rep, err
}

// TestSnapshotBitExact takes a live snapshot under load at three memory
// sizes and verifies it bit for bit against the reference taken at the
// instant: every captured page, the manifest and the root hash. At 256M
// and 1G the workload never blocks (two spinning writers, GC churn without
// pauses, virtio-rng DMA) and runs until the image is complete; at 2G it
// sleeps 1 ms per batch (under TCG a 2G snapshot under the never-blocking
// load takes too long for make test).
func TestSnapshotBitExact(t *testing.T) {
	for _, tc := range []struct{ ram, env, workload string }{
		{"256M", "PAGESNAP_KERNEL_AMD64_256M", "cpu"},
		{"1G", "PAGESNAP_KERNEL_AMD64_1G", "cpu"},
		{"2G", "PAGESNAP_KERNEL_AMD64_2G", "sleep"},
	} {
		t.Run(tc.ram, func(t *testing.T) {
			rep, err := runMain(t, tc.env, tc.ram, "inuse", tc.workload)
			requireBitExact(t, rep, err, qemu.AMD64)
		})
	}
}

// TestSnapshotBitExactARM64 is TestSnapshotBitExact on arm64 (QEMU virt):
// stage 1 tables with AP[2] read-only, the data abort handler on its own
// stack, the virtio-rng device writing by DMA during the capture; the
// never-blocking workload at 256M.
func TestSnapshotBitExactARM64(t *testing.T) {
	for _, tc := range []struct{ ram, env, workload string }{
		{"256M", "PAGESNAP_KERNEL_ARM64", "cpu"},
		{"1G", "PAGESNAP_KERNEL_ARM64_1G", "sleep"},
		{"2G", "PAGESNAP_KERNEL_ARM64_2G", "sleep"},
	} {
		t.Run(tc.ram, func(t *testing.T) {
			rep, err := runMain(t, tc.env, tc.ram, "inuse", tc.workload)
			requireBitExact(t, rep, err, qemu.ARM64)
		})
	}
}

// TestSnapshotBitExactGICv3ARM64 runs the arm64 main job (256M, the
// never-blocking workload) on QEMU virt with a GICv3 (gic-version=3: the
// tick and the virtio-rng interrupt through package irq/gicv3, the board
// choosing it from the device tree) and entered at EL3 (secure=on: the
// board sets the GIC's Secure side up and drops to Non-secure EL1). The
// kernel's banner must name the GICv3; the snapshot must verify bit for
// bit with the tick draining and the device interrupting.
func TestSnapshotBitExactGICv3ARM64(t *testing.T) {
	for _, tc := range []struct {
		name    string
		machine []string
	}{
		{"gicv3", []string{"gic-version=3"}},
		{"gicv3-el3", []string{"gic-version=3", "secure=on"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kernelFor(t, "PAGESNAP_KERNEL_ARM64")
			log := &lockedBuffer{}
			rep, err := Run(context.Background(), Options{Kernel: k, RAM: "256M", DMA: "inuse", Work: time.Second, Timeout: 60 * time.Minute,
				Workload: "cpu", Share: testShare, Machine: tc.machine, Log: log})
			if rep != nil {
				t.Logf("\n%s", rep)
			}
			if !strings.Contains(log.String(), "MHz, GICv3\n") {
				t.Errorf("the kernel's banner names no GICv3:\n%.2000s", log.String())
			}
			requireBitExact(t, rep, err, qemu.ARM64)
		})
	}
}

func requireBitExact(t *testing.T, rep *Report, err error, arch qemu.Arch) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Arch != arch {
		t.Fatalf("the kernel ran as %s, want %s", rep.Arch, arch)
	}
	want := pagesOf(rep.Layout.Captured)
	if rep.Verify.Pages != want || rep.Verify.Matched != want {
		t.Fatalf("verified %d pages (%d matched), captured %d", rep.Verify.Pages, rep.Verify.Matched, want)
	}
	if _, err := lines.ParseVerified(rep.GuestVerify); err != nil {
		t.Fatalf("guest verification: %s", rep.GuestVerify)
	}
	if rep.Faults == 0 || rep.Drained == 0 {
		t.Fatalf("faults %d, drained %d: the snapshot was not live", rep.Faults, rep.Drained)
	}
	// The DMA device kept writing and signalled its completions by
	// interrupt during the capture.
	if rep.DMAIRQs == 0 {
		t.Fatalf("no virtio-rng interrupt during the capture (%d)", rep.DMAIRQs)
	}
	// On the idle machine the interrupt wakes the driver's pump: some of
	// its waits end before their timeout (virtio.RNGStats.Woken).
	if rep.IdleIRQs == 0 || rep.IdleWakes == 0 {
		t.Fatalf("snapshot on the idle machine: %d virtio-rng interrupts, %d pump waits ended by them: the interrupt does not wake the pump", rep.IdleIRQs, rep.IdleWakes)
	}
	// The workload never blocked and ran until the image was complete:
	// the timer tick must have drained, and the workload progressed.
	if rep.Workload != "sleep" {
		if rep.TickShare <= 0 {
			t.Fatalf("tick share %.1f%%: the timer tick did not drain (%s)", rep.TickShare, rep.Complete)
		}
		if rep.During.Writes <= 0 || rep.During.Allocs <= 0 {
			t.Fatalf("the workload made no progress during the snapshot: %+v", rep.During)
		}
	}
}

// TestNegativeControl leaves the DMA ranges out of the eager set while the
// virtio-rng device writes by DMA: the verifier must report mismatches,
// and only on DMA pages.
func TestNegativeControl(t *testing.T) {
	rep, err := runMain(t, "PAGESNAP_KERNEL_AMD64_256M", "256M", "none", "sleep")
	requireDMAMismatches(t, rep, err)
}

// TestNegativeControlARM64 is TestNegativeControl on arm64.
func TestNegativeControlARM64(t *testing.T) {
	rep, err := runMain(t, "PAGESNAP_KERNEL_ARM64", "256M", "none", "sleep")
	requireDMAMismatches(t, rep, err)
}

func requireDMAMismatches(t *testing.T, rep *Report, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("the image taken without the DMA eager set verified: the negative control did not detect anything")
	}
	if rep == nil || rep.Verify == nil {
		t.Fatalf("no verification report: %v", err)
	}
	if len(rep.Verify.Mismatches) == 0 {
		t.Fatalf("no mismatching page: %v", err)
	}
	for _, m := range rep.Verify.Mismatches {
		if !rep.Layout.DMA.Contains(m.Addr) {
			t.Errorf("mismatch outside the DMA window: %v", m)
		}
	}
}

// TestFatalFault makes the kernel take a page fault that is not the
// snapshot's: it must print the report (CR2, error code, RIP, the
// instruction bytes, which decode to the faulting load) and stop with
// status 3 (QEMU exit status 7).
func TestFatalFault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vm := bootReady(t, ctx, qemu.AMD64, "PAGESNAP_KERNEL_AMD64_256M")
	k := vm.Config.Kernel
	if err := vm.Send("crash nil"); err != nil {
		t.Fatal(err)
	}
	m, err := vm.Console.Expect(fatalRE, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFatalFault(m.Line, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", f)
	if f.CR2 != 0 || f.Error&3 != 0 || f.Kind != "not-present,read" {
		t.Errorf("cr2 %#x error %#x kind %q: want a not-present read at 0", f.CR2, f.Error, f.Kind)
	}
	if !strings.Contains(f.Inst.Sym, "main.main.commands.func") && !strings.Contains(f.Inst.Sym, "main.commands.func") {
		t.Errorf("faulting instruction in %q, want the crash command", f.Inst.Sym)
	}
	if f.Inst.Text == "" || len(f.Inst.Bytes) == 0 {
		t.Errorf("instruction not decoded: %+v", f.Inst)
	}
	st, err := vm.Wait(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := st.DebugExit(); !ok || v != 3 {
		t.Fatalf("exit %v, want isa-debug-exit 3 (status 7)", st)
	}
}

// crashAddr is the unmapped address the amd64 kernel's crash fetch and
// crash nested use (page 0; kernel/cmd/pagesnap/board_amd64.go).
const crashAddr = 0x10

// fatalCrash boots the amd64 256M kernel, sends crash variant, and returns
// the console output up to the decoded fatal report, after checking that
// the machine stopped with status 3 (QEMU exit status 7).
func fatalCrash(t *testing.T, variant string) (*FatalFault, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vm := bootReady(t, ctx, qemu.AMD64, "PAGESNAP_KERNEL_AMD64_256M")
	if err := vm.Send("crash " + variant); err != nil {
		t.Fatal(err)
	}
	m, err := vm.Console.Expect(fatalRE, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFatalFault(m.Line, vm.Config.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", f)
	st, err := vm.Wait(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := st.DebugExit(); !ok || v != 3 {
		t.Fatalf("exit %v, want isa-debug-exit 3 (status 7)", st)
	}
	return f, vm.Console.Output()
}

// TestFatalFaultFetch makes the amd64 kernel jump to an unmapped address:
// an instruction-fetch fault. The report must give CR2 = RIP = that
// address, say the instruction bytes are unreadable (reading them would
// fault inside the handler), name the crash command as the caller (the
// return address on the stack) and stop with status 3.
func TestFatalFaultFetch(t *testing.T) {
	f, _ := fatalCrash(t, "fetch")
	if f.CR2 != crashAddr || f.RIP != crashAddr || f.Error&(1|2) != 0 {
		t.Errorf("cr2 %#x rip %#x error %#x: want a not-present read (fetch) at %#x", f.CR2, f.RIP, f.Error, crashAddr)
	}
	if !f.Unreadable || f.Inst.Text != "" {
		t.Errorf("instruction %+v: want the bytes reported unreadable", f.Inst)
	}
	if len(f.Frames) == 0 || !strings.Contains(f.Frames[0].Sym, "kernel.CrashFetch") {
		t.Errorf("frames %+v: want kernel.CrashFetch first (the return address of the call)", f.Frames)
	}
}

// TestNestedFault makes the amd64 page-fault handler fault while it
// handles a nil dereference: the handler must not overwrite the outer
// frame (IST1 points at the nested-fault stack while it runs), report
// the outer fault (CR2 0, in the crash command) and then the inner one
// (CR2 = the address the handler read, RIP in kernel.pageFault, decoded),
// and stop with status 3.
func TestNestedFault(t *testing.T) {
	f, out := fatalCrash(t, "nested")
	k := os.Getenv("PAGESNAP_KERNEL_AMD64_256M")
	g := nestedRE.FindStringSubmatch(out)
	if g == nil {
		t.Fatal("no nested-fault line before the fatal report")
	}
	if cr2, code := hex64(g[1]), hex64(g[2]); cr2 != 0 || code&(1|2) != 0 {
		t.Errorf("outer fault cr2 %s error %s: want the nil read (a not-present read at 0)", g[1], g[2])
	}
	if e, err := disasm.OpenELF(k); err != nil {
		t.Fatal(err)
	} else if n, _ := e.Symbolize(hex64(g[3])); n != "github.com/pagesnap/pagesnap/kernel.CrashNested" {
		t.Errorf("outer fault rip %s in %q, want kernel.CrashNested", g[3], n)
	}
	if f.CR2 != crashAddr || f.Error&(1|2) != 0 {
		t.Errorf("inner fault cr2 %#x error %#x: want a not-present read at %#x", f.CR2, f.Error, crashAddr)
	}
	if f.Unreadable || f.Inst.Text == "" || !strings.Contains(f.Inst.Sym, "kernel.pageFault") {
		t.Errorf("inner instruction %+v: want the load in kernel.pageFault, decoded", f.Inst)
	}
	if strings.Index(out, g[0]) > strings.Index(out, "pagesnap: FATAL page fault:") {
		t.Error("the nested-fault line comes after the fatal report")
	}
}

// TestSelftestFailureDetected builds the self-check kernel with a check
// that fails on purpose (-X main.failForTest) and asserts that Selftest
// reports it and that the guest's exit status says FAIL (isa-debug-exit 1).
func TestSelftestFailureDetected(t *testing.T) {
	goBin := os.Getenv("TAMAGO_GO")
	if goBin == "" {
		qemu.Missing(t, "TAMAGO_GO is not set: `make test` sets it to the GOOS=tamago toolchain")
	}
	elf := t.TempDir() + "/selftest-fail.elf"
	cmd := exec.Command(goBin, "build", "-ldflags", "-T 0x10010000 -R 0x1000 -X main.failForTest=forced", "-o", elf, "../../kernel/cmd/selftest")
	cmd.Env = append(os.Environ(), "GOOS=tamago", "GOARCH=amd64", "GOOSPKG=github.com/usbarmory/tamago")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, Board: "microvm", MemoryMiB: 1024, Kernel: elf, DebugExit: true, ICount: true, ConsoleLog: logWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	if _, err := vm.Console.ExpectString("selftest: forced: FAIL failed on purpose", 4*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Console.Expect(regexp.MustCompile(`^selftest: FAIL$`), time.Minute); err != nil {
		t.Fatal(err)
	}
	st, err := vm.Wait(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := st.DebugExit(); !ok || v != 1 {
		t.Fatalf("exit %v, want isa-debug-exit 1 (status 3)", st)
	}
}

// TestCrashARM64 makes the arm64 kernel dereference nil, an abort that is
// not the snapshot's: pagesnap's vector must pass it on to the board's,
// which turns it into a Go panic, and the machine must stop with the
// runtime's status 2 (board/qemu/virt RuntimeFatalExitCode, through
// semihosting).
func TestCrashARM64(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vm := bootReady(t, ctx, qemu.ARM64, "PAGESNAP_KERNEL_ARM64")
	if err := vm.Send("crash nil"); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Console.ExpectString("panic: runtime error: invalid memory address or nil pointer dereference", time.Minute); err != nil {
		t.Fatal(err)
	}
	st, err := vm.Wait(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if st.Killed || st.Signal != 0 || st.Code != 2 {
		t.Fatalf("QEMU ended with %v, want exit status 2 (Go panic)", st)
	}
}

var probeRE = regexp.MustCompile(`probe: protected=(\w+) faults=(\d+) writable=(\w+) stored=(\w+) changed-registers=(\d+)|error: .*`)

// TestWriteProbeARM64 runs the arm64 kernel's probe while the workload and
// the virtio-rng device run: right after a snapshot's start, one store to
// a write-protected page with known values in X0-X17, X19-X27 and V0-V31.
// The data abort handler must take the fault (the page becomes writable
// and holds the value) and give back every register unchanged.
func TestWriteProbeARM64(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	vm := bootReady(t, ctx, qemu.ARM64, "PAGESNAP_KERNEL_ARM64", "virtio-rng-device")
	if err := vm.Send("work start"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := guestSleep(vm, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := vm.Send("probe"); err != nil {
		t.Fatal(err)
	}
	m, err := vm.Console.Expect(probeRE, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	g := probeRE.FindStringSubmatch(m.Line)
	if g[1] == "" {
		t.Fatalf("probe failed: %s", m.Line)
	}
	faults, _ := strconv.Atoi(g[2])
	if g[1] != "true" || faults < 1 || g[3] != "true" || g[4] != "true" {
		t.Errorf("%s: want a protected page, at least one fault, writable after it, the value stored", m.Line)
	}
	if g[5] != "0" {
		t.Errorf("%s: the write fault handler changed %s registers of the interrupted code", m.Line, g[5])
	}
	// The snapshot completes with the load still running (the timer
	// tick's drain share).
	if _, err := vm.Console.Expect(completeRE, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := vm.Send("work stop"); err != nil {
		t.Fatal(err)
	}
	vm.Send("exit 0")
	if st, err := vm.Wait(time.Minute); err != nil || st.Code != 0 {
		t.Fatalf("exit: %v %v", st, err)
	}
}

// backToBackCount is how many snapshots TestBackToBack takes per arch:
// PAGESNAP_BACK_TO_BACK (make back-to-back sets 20), else 3 (make test:
// under TCG each snapshot of the 256M kernel under load takes tens of
// seconds).
func backToBackCount(t *testing.T) int {
	if v := os.Getenv("PAGESNAP_BACK_TO_BACK"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PAGESNAP_BACK_TO_BACK=%q: want a positive count", v)
		}
		return n
	}
	return 3
}

// TestBackToBack takes snapshots in a row under the never-blocking
// workload, each started as soon as the previous one is complete (snap
// start overwrite: the kernel waits for the previous snapshot's finisher,
// which touches only its own snapshot), each verified bit for bit against
// its own reference.
func TestBackToBack(t *testing.T) {
	for _, tc := range []struct {
		arch qemu.Arch
		env  string
	}{{qemu.AMD64, "PAGESNAP_KERNEL_AMD64_256M"}, {qemu.ARM64, "PAGESNAP_KERNEL_ARM64"}} {
		t.Run(string(tc.arch), func(t *testing.T) {
			k := kernelFor(t, tc.env)
			n := backToBackCount(t)
			reps, err := BackToBack(context.Background(), Options{Kernel: k, RAM: "256M", Log: logWriter{t}, Share: testShare}, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(reps) != n {
				t.Fatalf("%d snapshots verified, want %d", len(reps), n)
			}
			for i, r := range reps {
				if r.Pages == 0 || r.Matched != r.Pages {
					t.Fatalf("snapshot %d: %d of %d pages match", i+1, r.Matched, r.Pages)
				}
			}
		})
	}
}

// dmaHogKiB is what TestDMAGuard hogs right after the snapshot started:
// more than the 2 MiB the amd64 kernel once rounded the in-use DMA out to, so
// that the virtio-rng's later buffer rotations are allocated outside the
// eager set.
const dmaHogKiB = 3072

// TestDMAGuard exercises the DMA allocation guard on amd64, where the
// in-use DMA blocks were once rounded out to 2 MiB and every rotated buffer
// would otherwise already be eager: right after snap start, dma hog
// pushes the allocator past the eager set, so the virtio-rng's rotations
// allocate outside it while the device writes. With the guard the image
// verifies bit for bit; the same with snap start noguard must fail, with
// mismatches only on DMA pages (the device's writes reached the image).
func TestDMAGuard(t *testing.T) {
	k := kernelFor(t, "PAGESNAP_KERNEL_AMD64_256M")
	sc := Scenario{Workload: "sleep", Shots: []Shot{
		{After: []string{fmt.Sprintf("dma hog %d", dmaHogKiB)}},
		{Before: []string{"dma free"}, NoGuard: true, After: []string{fmt.Sprintf("dma hog %d", dmaHogKiB)}},
	}}
	out := &lockedBuffer{}
	reps, err := RunScenario(context.Background(), Options{Kernel: k, RAM: "256M", Log: io.MultiWriter(logWriter{t}, out), Share: testShare}, sc)
	if len(reps) == 0 {
		t.Fatalf("no snapshot verified: %v", err)
	}
	if r := reps[0]; !r.OK() || r.Matched != r.Pages || r.Pages == 0 {
		t.Fatalf("with the guard: %d of %d pages match: %v", r.Matched, r.Pages, r.Err())
	}
	if len(reps) != 2 || err == nil {
		t.Fatalf("without the guard the image verified (%d reports, %v): the guard is not exercised", len(reps), err)
	}
	var layoutLine string
	for _, ln := range strings.Split(out.String(), "\n") {
		if i := strings.Index(ln, lines.LayoutPrefix+" "); i >= 0 {
			layoutLine = ln[i:]
			break
		}
	}
	l, lerr := ParseLayout(layoutLine)
	if lerr != nil {
		t.Fatal(lerr)
	}
	r := reps[1]
	if len(r.Mismatches) == 0 || r.ImageErr != nil {
		t.Fatalf("without the guard: %v, want page mismatches only", r.Err())
	}
	for _, m := range r.Mismatches {
		if !l.DMA.Contains(m.Addr) {
			t.Errorf("mismatch outside the DMA window %v: %v", l.DMA, m)
		}
	}
	t.Logf("without the guard: %d DMA pages differ from the reference (first %#x)", len(r.Mismatches), r.Mismatches[0].Addr)
}

// smpError is the kernel's answer to snap start with two CPUs online.
const smpError = "error: snap: pagesnap runs on one CPU only (TLB invalidation is local and write faults are not serialized across CPUs): 2 CPUs are online"

// TestSMPRefused boots each kernel with -smp 2: snap start must refuse
// with the exact error, and nothing be started.
func TestSMPRefused(t *testing.T) {
	for _, tc := range []struct {
		arch qemu.Arch
		env  string
	}{{qemu.AMD64, "PAGESNAP_KERNEL_AMD64_256M"}, {qemu.ARM64, "PAGESNAP_KERNEL_ARM64"}} {
		t.Run(string(tc.arch), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			vm := bootReadySMP(t, ctx, tc.arch, tc.env, 2)
			if !strings.Contains(vm.Console.Output(), "pagesnap: 2 CPU(s) online") {
				t.Fatal("the kernel did not report 2 CPUs online")
			}
			if err := vm.Send("snap start"); err != nil {
				t.Fatal(err)
			}
			m, err := vm.Console.Expect(regexp.MustCompile(`error: .*|snap: started.*`), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(m.Line, "> "); got != smpError {
				t.Fatalf("snap start with 2 CPUs:\n got %q\nwant %q", got, smpError)
			}
			if err := vm.Send("snap status"); err != nil {
				t.Fatal(err)
			}
			if _, err := vm.Console.ExpectString("error: snap: no snapshot has been taken", time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestKeptImage: a complete image is kept (after completion no captured
// page is read-only, the whole storage is): snap start over it fails with
// the exact error, a store into the storage is a fatal fault (amd64: the
// decoded report and status 3), and snap discard then snap start, and snap
// start overwrite, work (arm64: its 256M kernel captures half as many
// pages, and TCG time matters here).
func TestKeptImage(t *testing.T) {
	for _, tc := range []struct {
		mode string
		arch qemu.Arch
		env  string
	}{{"store", qemu.AMD64, "PAGESNAP_KERNEL_AMD64_256M"}, {"discard", qemu.ARM64, "PAGESNAP_KERNEL_ARM64"}} {
		mode := tc.mode
		t.Run(mode+"-"+string(tc.arch), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
			defer cancel()
			vm := bootReady(t, ctx, tc.arch, tc.env)
			if err := vm.Send("snap start"); err != nil {
				t.Fatal(err)
			}
			if _, err := vm.Console.Expect(completeRE, 10*time.Minute); err != nil {
				t.Fatal(err)
			}
			expectLine := func(cmd, want string) {
				t.Helper()
				if err := vm.Send(cmd); err != nil {
					t.Fatal(err)
				}
				m, err := vm.Console.Expect(regexp.MustCompile(`error: .*|snap: (started|discarded|verify ok|read-only pages).*|pagesnap: FATAL.*`), 5*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.TrimPrefix(m.Line, "> "); !strings.HasPrefix(got, want) {
					t.Fatalf("%s:\n got %q\nwant %q...", cmd, got, want)
				}
			}
			// After completion no captured page stays read-only; the kept
			// storage is read-only in full.
			storagePages := func() string {
				g := regexp.MustCompile(`storage=(0x[0-9a-f]+)\+(0x[0-9a-f]+)`).FindStringSubmatch(vm.Console.Output())
				if g == nil {
					t.Fatal("no layout line")
				}
				return strconv.FormatUint(hex64(g[2])/4096, 10)
			}()
			expectLine("snap protected", "snap: read-only pages: captured=0 storage="+storagePages+"/"+storagePages+" kept=true")
			expectLine("snap start", "error: snap: storage holds a complete image, kept write-protected: snap discard drops it, snap start overwrite replaces it")
			expectLine("snap verify", "snap: verify ok")
			if mode == "store" {
				if err := vm.Send("crash storage"); err != nil {
					t.Fatal(err)
				}
				m, err := vm.Console.Expect(fatalRE, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				f, err := ParseFatalFault(m.Line, vm.Config.Kernel)
				if err != nil {
					t.Fatal(err)
				}
				if f.Kind != "protection,write" {
					t.Fatalf("fault %+v: want a protection fault on a write into the kept storage", f)
				}
				st, err := vm.Wait(time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := st.DebugExit(); !ok || v != 3 {
					t.Fatalf("exit %v, want isa-debug-exit 3", st)
				}
				return
			}
			expectLine("snap discard", "snap: discarded: the storage is writable again")
			expectLine("snap discard", "error: snap: no complete image is kept")
			expectLine("snap protected", "snap: read-only pages: captured=0 storage=0/"+storagePages+" kept=false")
			expectLine("snap verify", "error: snapshot: snapshot incomplete")
			expectLine("snap start", "snap: started")
			if _, err := vm.Console.Expect(completeRE, 10*time.Minute); err != nil {
				t.Fatal(err)
			}
			expectLine("snap start overwrite", "snap: started")
			if _, err := vm.Console.Expect(completeRE, 10*time.Minute); err != nil {
				t.Fatal(err)
			}
			expectLine("snap verify", "snap: verify ok")
		})
	}
}

// bootReady boots the 256M pagesnap kernel named by env for arch (with
// extra devices if any) and waits for its console prompt. QEMU is killed
// when the test ends.
func bootReady(t *testing.T, ctx context.Context, arch qemu.Arch, env string, devices ...string) *qemu.VM {
	t.Helper()
	return bootReadySMP(t, ctx, arch, env, 0, devices...)
}

// bootReadySMP is bootReady with smp CPUs (0: QEMU's default, one).
func bootReadySMP(t *testing.T, ctx context.Context, arch qemu.Arch, env string, smp int, devices ...string) *qemu.VM {
	t.Helper()
	k := kernelFor(t, env)
	mem, err := MemoryFor(arch, "256M")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := machine(arch, mem, k)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConsoleLog = logWriter{t}
	cfg.SMP = smp
	if len(devices) > 0 {
		cfg.Devices = append(cfg.Devices, devices...)
		cfg.ExtraArgs = append(cfg.ExtraArgs, "-global", "virtio-mmio.force-legacy=false")
	}
	vm, err := qemu.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vm.Kill() })
	if _, err := vm.Console.ExpectString("pagesnap: ready", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return vm
}

var (
	probeIRQRE = regexp.MustCompile(`probe irq: ticks=(\d+) rounds=(\d+) changed-registers=(\d+)|error: .*`)
	probeCASRE = regexp.MustCompile(`probe cas: pages=(\d+) protected=(\d+) lost=(\d+) lse=(\w+)|error: .*`)
)

// TestInterruptProbesARM64 checks the arm64 interrupt path against the
// interrupted code's registers, under QEMU's "max" CPU (FEAT_LSE). probe
// irq spins with known values in X0-X17, X19-X27 and V0-V31 while 20
// timer interrupts come: none may change a register (the exception entry
// once changed X27, the assembler's temporary, on every interrupt). probe
// cas then does a sync/atomic compare-and-swap on each of 4096 pages a
// snapshot has just write-protected, with the tick and the workload
// running: every one must store (with X27 changed by an interrupt that
// came right after a write fault, a CASAL compared against garbage and
// reported success without storing: the Go heap then broke).
func TestInterruptProbesARM64(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	vm := bootReady(t, ctx, qemu.ARM64, "PAGESNAP_KERNEL_ARM64", "virtio-rng-device")
	if err := vm.Send("work start"); err != nil {
		t.Fatal(err)
	}
	if err := vm.Send("probe irq"); err != nil {
		t.Fatal(err)
	}
	m, err := vm.Console.Expect(probeIRQRE, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	g := probeIRQRE.FindStringSubmatch(m.Line)
	if g[1] == "" {
		t.Fatalf("probe irq failed: %s", m.Line)
	}
	if ticks, _ := strconv.Atoi(g[1]); ticks < 20 {
		t.Errorf("%s: want at least 20 timer interrupts during the probe", m.Line)
	}
	if g[3] != "0" {
		t.Errorf("%s: an interrupt changed registers of the interrupted code", m.Line)
	}
	if err := vm.Send("probe cas"); err != nil {
		t.Fatal(err)
	}
	if m, err = vm.Console.Expect(probeCASRE, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	g = probeCASRE.FindStringSubmatch(m.Line)
	if g[1] == "" {
		t.Fatalf("probe cas failed: %s", m.Line)
	}
	if g[4] != "true" {
		t.Errorf("%s: QEMU's max CPU should have FEAT_LSE (the case this probe is for)", m.Line)
	}
	if protected, _ := strconv.Atoi(g[2]); protected < 4000 {
		t.Errorf("%s: want nearly every page still write-protected when its CAS ran", m.Line)
	}
	if g[3] != "0" {
		t.Errorf("%s: compare-and-swaps reported success without storing", m.Line)
	}
	if _, err := vm.Console.Expect(completeRE, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	vm.Send("work stop")
	vm.Send("exit 0")
	if st, err := vm.Wait(time.Minute); err != nil || st.Code != 0 {
		t.Fatalf("exit: %v %v", st, err)
	}
}

// repeatCount is how many snapshots TestRepeatedSnapshots takes:
// PAGESNAP_REPEAT (make repeat sets 100), else 2 (make test: about 35 s
// of host time each).
func repeatCount(t *testing.T) int {
	if v := os.Getenv("PAGESNAP_REPEAT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("PAGESNAP_REPEAT=%q: want a count of 2 or more", v)
		}
		return n
	}
	return 2
}

// TestRepeatedSnapshots (amd64, 256M, never-blocking workload, TCG with
// -icount: the pause in guest instructions) takes snapshots in a row and
// checks that they leave the machine as they found it: every snapshot
// splits 2 MiB pages (at Start around the eager set, and on write faults)
// and joins them all back at the end (tables merged, none left), the
// table pool is back to its boot count after each one (pool-after equal
// for all: it neither grows nor runs out), and, from 8 snapshots on, the
// pause does not grow (the median of the last quarter within 1.5× that of
// the first: the eager heap objects move from one snapshot to the next,
// so single pauses vary).
func TestRepeatedSnapshots(t *testing.T) {
	k := kernelFor(t, "PAGESNAP_KERNEL_AMD64_256M")
	n := repeatCount(t)
	shots, err := Repeat(context.Background(), Options{Kernel: k, RAM: "256M", Log: logWriter{t}, Share: 90, ICount: true}, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(shots) != n {
		t.Fatalf("%d snapshots, want %d", len(shots), n)
	}
	first := shots[0]
	var pauses []float64
	for i, sh := range shots {
		c := sh.Complete
		if c.TablesMerged == 0 || c.PoolUsed <= c.PoolAfter {
			t.Fatalf("snapshot %d: pool used %d, %d tables merged, pool after %d: no split was joined back", i+1, c.PoolUsed, c.TablesMerged, c.PoolAfter)
		}
		if c.PoolAfter != first.Complete.PoolAfter {
			t.Fatalf("snapshot %d: pool after %d, after the first %d: the pool grows", i+1, c.PoolAfter, first.Complete.PoolAfter)
		}
		pauses = append(pauses, sh.Started.PauseMicros)
	}
	if n >= 8 {
		q := n / 4
		median := func(p []float64) float64 { p = slices.Clone(p); slices.Sort(p); return p[len(p)/2] }
		if a, b := median(pauses[:q]), median(pauses[n-q:]); b > 1.5*a {
			t.Fatalf("pause grew: median %.0f us over the last %d snapshots, %.0f us over the first %d", b, q, a, q)
		}
	}
}
