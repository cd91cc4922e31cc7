//go:build !tamago

package virt

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
)

// The host side of the board: build kernel/cmd/selftest for GOOS=tamago
// GOARCH=arm64 and boot it on qemu-system-aarch64 -M virt under TCG.

// linkFlags are the board's link flags (see TextStart in virt.go).
const linkFlags = "-T 0x40110000 -R 0x1000"

// selftestChecks are the checks kernel/cmd/selftest reports, in order.
var selftestChecks = []string{"gc", "goroutines", "sleep", "panic", "stdlib", "preempt", "gcspin", "gomaxprocs", "tick"}

// semihosting makes QEMU exit with the status the guest passes to
// SYS_EXIT_EXTENDED (see Exit in exit.go).
var semihosting = []string{"-semihosting-config", "enable=on,target=native"}

// tamagoGo finds the GOOS=tamago toolchain: $TAMAGO_GO, the one `make
// toolchain` recorded in build/toolchain.goroot, or /work/tc/goroot. It
// skips the test when there is none and fails when $TAMAGO_GO is set but
// cannot build for tamago/arm64.
func tamagoGo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-aarch64"); err != nil {
		t.Skip("qemu-system-aarch64 is not installed (make deps installs it)")
	}
	candidates := []string{}
	explicit := os.Getenv("TAMAGO_GO")
	if explicit != "" {
		candidates = append(candidates, explicit)
	}
	if b, err := os.ReadFile("../../../build/toolchain.goroot"); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(b)), "bin", "go"))
	}
	candidates = append(candidates, "/work/tc/goroot/bin/go")
	for _, c := range candidates {
		if _, err := os.Stat(c); err != nil {
			if c == explicit {
				t.Fatalf("TAMAGO_GO=%s: %v", c, err)
			}
			continue
		}
		out, err := exec.Command(c, "tool", "dist", "list").Output()
		if err == nil && slices.Contains(strings.Fields(string(out)), "tamago/arm64") {
			return c
		}
		if c == explicit {
			t.Fatalf("TAMAGO_GO=%s does not list tamago/arm64 (go tool dist list: %v)", c, err)
		}
	}
	t.Skip("no GOOS=tamago toolchain: set TAMAGO_GO=/path/to/go/bin/go or run `make toolchain`")
	return ""
}

// buildSelftest builds the self-test kernel with extra -X flags.
func buildSelftest(t *testing.T, goBin string, xflags ...string) string {
	t.Helper()
	return buildKernel(t, goBin, "github.com/pagesnap/pagesnap/kernel/cmd/selftest", xflags...)
}

// buildKernel builds package pkg for GOOS=tamago GOARCH=arm64 with extra
// -X flags.
func buildKernel(t *testing.T, goBin, pkg string, xflags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg)+"-arm64.elf")
	ldflags := linkFlags
	for _, x := range xflags {
		ldflags += " -X " + x
	}
	cmd := exec.Command(goBin, "build", "-ldflags", ldflags, "-o", out, pkg)
	env := []string{}
	for _, e := range os.Environ() {
		switch strings.SplitN(e, "=", 2)[0] {
		case "GOROOT", "GOOS", "GOARCH", "GOTOOLCHAIN", "CGO_ENABLED", "GOFLAGS":
			continue
		}
		env = append(env, e)
	}
	cmd.Env = append(env, "GOOS=tamago", "GOARCH=arm64", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	return out
}

// boot runs kernel on -M virt with the given CPU and RAM until QEMU exits
// (killed after two minutes) and returns the console lines and status.
// With icount, guest time counts instructions (-icount shift=0,sleep=off)
// instead of following the host clock: timing checks then do not depend
// on how loaded the host is.
func boot(t *testing.T, kernel, cpu string, memMiB int, icount bool, extra []string) ([]string, qemu.ExitStatus) {
	t.Helper()
	return bootConfig(t, qemu.Config{CPU: cpu, MemoryMiB: memMiB, Kernel: kernel, ICount: icount, ExtraArgs: extra})
}

// bootConfig is boot with any harness configuration (on -M virt, TCG,
// with -no-reboot added).
func bootConfig(t *testing.T, cfg qemu.Config) ([]string, qemu.ExitStatus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg.Arch, cfg.Board, cfg.Accel = qemu.ARM64, "virt", qemu.TCG
	cfg.ExtraArgs = append([]string{"-no-reboot"}, cfg.ExtraArgs...)
	vm, err := qemu.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	st, err := vm.Wait(2 * time.Minute)
	lines := vm.Console.Lines()
	if err != nil {
		t.Fatalf("%v; console:\n%s", err, strings.Join(lines, "\n"))
	}
	return lines, st
}

func requireLines(t *testing.T, lines []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("console has no line %q", w)
		}
	}
}

// TestSelftest boots the self-test kernel (guest time under icount: the
// sleep check measures 100 ms of guest time) and requires every check to
// pass, the runtime's memory to be sized from the device tree (RamStart
// to the end of RAM) and QEMU to exit with status 0 through semihosting.
func TestSelftest(t *testing.T) {
	goBin := tamagoGo(t)
	kernel := buildSelftest(t, goBin)
	for _, tc := range []struct {
		cpu    string
		memMiB int
	}{
		{"max", 1024},       // FEAT_RNG: RNDR
		{"cortex-a57", 128}, // Armv8.0, no RNDR; QEMU's default RAM
		{"max", 5 * 1024},   // RAM beyond 4 GiB: runtime capped at RamLimit
	} {
		t.Run(fmt.Sprintf("%s-%dM", tc.cpu, tc.memMiB), func(t *testing.T) {
			lines, st := boot(t, kernel, tc.cpu, tc.memMiB, true, semihosting)
			defer func() {
				if t.Failed() {
					t.Logf("console:\n%s", strings.Join(lines, "\n"))
				}
			}()
			for _, l := range lines {
				if strings.HasPrefix(l, "selftest: boot:") || strings.HasPrefix(l, "selftest: sleep: time") ||
					strings.HasPrefix(l, "selftest: preempt: spinner") || strings.HasPrefix(l, "selftest: gcspin: NumGC") ||
					strings.HasPrefix(l, "selftest: gomaxprocs: GOMAXPROCS") || strings.HasPrefix(l, "selftest: tick: ") && !strings.HasSuffix(l, ": ok") {
					t.Log(l)
				}
			}
			for _, c := range selftestChecks {
				requireLines(t, lines, "selftest: "+c+": ok")
			}
			requireLines(t, lines, "selftest: PASS")
			ramEnd := uint64(DTBAddress) + uint64(tc.memMiB)<<20
			runtimeEnd := min(ramEnd, RamLimit)
			requireLines(t, lines, fmt.Sprintf("selftest: memory: runtime %#x-%#x, device tree RAM %#x-%#x",
				RamStart, runtimeEnd, DTBAddress, ramEnd))
			for _, l := range lines {
				if strings.Contains(l, "FAIL") || strings.HasPrefix(l, "virt:") {
					t.Errorf("unexpected line %q", l)
				}
			}
			if st.Killed || st.Signal != 0 || st.Code != 0 {
				t.Errorf("QEMU ended with %v, want exit status 0", st)
			}
		})
	}
}

// TestSelftestFailStatus builds the self-test with a check that fails and
// requires the FAIL report and exit status 1 with semihosting; without
// semihosting the status is lost (QEMU exits 0 through PSCI SYSTEM_OFF)
// and the console says so.
func TestSelftestFailStatus(t *testing.T) {
	goBin := tamagoGo(t)
	kernel := buildSelftest(t, goBin, "main.failForTest=forced")

	lines, st := boot(t, kernel, "max", 256, true, semihosting)
	requireLines(t, lines,
		"selftest: forced: FAIL failed on purpose (-X main.failForTest)",
		"selftest: FAIL")
	if st.Killed || st.Signal != 0 || st.Code != 1 {
		t.Errorf("with semihosting: QEMU ended with %v, want exit status 1", st)
	}

	lines, st = boot(t, kernel, "max", 256, true, nil)
	requireLines(t, lines,
		"selftest: FAIL",
		"aarch64: semihosting is off (-semihosting-config enable=on,target=native): exit status 1 lost")
	if st.Killed || st.Signal != 0 || st.Code != 0 {
		t.Errorf("without semihosting: QEMU ended with %v, want exit status 0 (PSCI SYSTEM_OFF)", st)
	}
	if t.Failed() {
		t.Logf("console:\n%s", strings.Join(lines, "\n"))
	}
}

// TestExceptions boots internal/boardtest: aborts in Go code must become
// recoverable run-time panics (nil loads, stores and function calls, an
// unmapped address, fmt's handling of a nil Stringer), an AbortHandler
// must be able to resolve a load (result and registers as it left them),
// runtime.WakeG must end a sleep at once; an unrecovered abort
// must end the machine with the runtime's status 2; any other exception
// must be reported with its syndrome and end it with ExceptionExitCode.
func TestExceptions(t *testing.T) {
	goBin := tamagoGo(t)
	const pkg = "github.com/pagesnap/pagesnap/board/qemu/virt/internal/boardtest"

	t.Run("recover", func(t *testing.T) {
		lines, st := boot(t, buildKernel(t, goBin, pkg), "max", 256, false, semihosting)
		for _, c := range []string{"nil-load", "nil-store", "nil-func", "unmapped", "fmt-nil-stringer", "abort-handler", "abort-declined", "wakeg", "after"} {
			requireLines(t, lines, "boardtest: "+c+": ok")
		}
		if st.Killed || st.Signal != 0 || st.Code != 0 {
			t.Errorf("QEMU ended with %v, want exit status 0", st)
		}
		if t.Failed() {
			t.Logf("console:\n%s", strings.Join(lines, "\n"))
		}
	})
	t.Run("panic", func(t *testing.T) {
		lines, st := boot(t, buildKernel(t, goBin, pkg, "main.mode=panic"), "max", 256, false, semihosting)
		requireLines(t, lines, "panic: runtime error: invalid memory address or nil pointer dereference")
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "[signal 0xb code=0x1 addr=0x8 pc=") }) {
			t.Errorf("no [signal ... addr=0x8 ...] line")
		}
		if st.Killed || st.Signal != 0 || st.Code != RuntimeFatalExitCode {
			t.Errorf("QEMU ended with %v, want exit status %d", st, RuntimeFatalExitCode)
		}
		if t.Failed() {
			t.Logf("console:\n%s", strings.Join(lines, "\n"))
		}
	})
	t.Run("undef", func(t *testing.T) {
		lines, st := boot(t, buildKernel(t, goBin, pkg, "main.mode=undef"), "max", 256, false, semihosting)
		requireLines(t, lines, "aarch64: unhandled exception: synchronous (EL1, SP_EL0)")
		if !slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(l, "  ESR_EL1 0x0000000002000000 (EC 0x0000000000000000)  ELR_EL1 0x")
		}) {
			t.Errorf("no ESR_EL1 line with EC 0 (unknown reason)")
		}
		if st.Killed || st.Signal != 0 || st.Code != ExceptionExitCode {
			t.Errorf("QEMU ended with %v, want exit status %d", st, ExceptionExitCode)
		}
		if t.Failed() {
			t.Logf("console:\n%s", strings.Join(lines, "\n"))
		}
	})
}

// TestExceptionLevels boots the self-test entered at EL2
// (virtualization=on: the board drops to EL1, and PSCI goes through SMC as
// the device tree says) and at EL3 (secure=on: the board acts as the
// firmware and drops to Non-secure EL1), with a GICv2 or a GICv3.
func TestExceptionLevels(t *testing.T) {
	goBin := tamagoGo(t)
	kernel := buildSelftest(t, goBin)

	t.Run("EL2", func(t *testing.T) {
		lines, st := bootConfig(t, qemu.Config{CPU: "max", MemoryMiB: 512, Kernel: kernel, ICount: true,
			MachineOpts: []string{"virtualization=on"}, ExtraArgs: semihosting})
		for _, c := range selftestChecks {
			requireLines(t, lines, "selftest: "+c+": ok")
		}
		requireLines(t, lines, "selftest: PASS")
		if st.Killed || st.Signal != 0 || st.Code != 0 {
			t.Errorf("QEMU ended with %v, want exit status 0", st)
		}
		if t.Failed() {
			t.Logf("console:\n%s", strings.Join(lines, "\n"))
		}
	})
	t.Run("EL2-PSCI-SMC", func(t *testing.T) {
		// No semihosting: Exit falls back to PSCI SYSTEM_OFF, which only
		// ends QEMU if the SMC conduit was taken from the device tree.
		lines, st := bootConfig(t, qemu.Config{CPU: "max", MemoryMiB: 512, Kernel: kernel, ICount: true,
			MachineOpts: []string{"virtualization=on"}})
		requireLines(t, lines, "selftest: PASS")
		if st.Killed || st.Signal != 0 || st.Code != 0 {
			t.Errorf("QEMU ended with %v, want exit status 0", st)
		}
	})
	// EL3 (secure=on): the board sets the GIC's Secure side up and drops
	// to Non-secure EL1; with a GICv2 and with a GICv3. And the GICv3 at
	// EL1 and from EL2 (ICC_SRE_EL2 opens the System registers to EL1).
	for _, tc := range []struct {
		name string
		opts []string
	}{
		{"EL3", []string{"secure=on"}},
		{"EL3-GICv3", []string{"secure=on", "gic-version=3"}},
		{"EL1-GICv3", []string{"gic-version=3"}},
		{"EL2-GICv3", []string{"virtualization=on", "gic-version=3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, st := bootConfig(t, qemu.Config{CPU: "max", MemoryMiB: 512, Kernel: kernel, ICount: true,
				MachineOpts: tc.opts, ExtraArgs: semihosting})
			for _, c := range selftestChecks {
				requireLines(t, lines, "selftest: "+c+": ok")
			}
			requireLines(t, lines, "selftest: PASS")
			if st.Killed || st.Signal != 0 || st.Code != 0 {
				t.Errorf("QEMU ended with %v, want exit status 0", st)
			}
			if t.Failed() {
				t.Logf("console:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}
