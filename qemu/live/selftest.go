package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
)

// SelftestChecks are the checks kernel/cmd/selftest reports on every
// arch, in order; SelftestChecksFor adds the board's own.
var SelftestChecks = []string{"gc", "goroutines", "sleep", "panic", "stdlib", "preempt", "gcspin", "gomaxprocs", "tick"}

// SelftestChecksFor returns the checks the self-test kernel of arch
// reports, in order: SelftestChecks, then on amd64 "xsave" (the YMM
// registers kept across an interrupt whose handler uses AVX).
func SelftestChecksFor(arch qemu.Arch) []string {
	if arch == qemu.AMD64 {
		return append(SelftestChecks[:len(SelftestChecks):len(SelftestChecks)], "xsave")
	}
	return SelftestChecks
}

// SelftestResult is the outcome of a self-check boot.
type SelftestResult struct {
	Accel      string
	KVMProbe   string        // why KVM was or was not used
	BootWall   time.Duration // QEMU start to banner, host wall clock
	GuestBoot  string        // the guest's own "boot:" figure
	Lines      []string      // the check lines
	ExitStatus qemu.ExitStatus
}

var selftestCheckRE = regexp.MustCompile(`^selftest: (\w+): (ok|FAIL.*)$`)

// Selftest boots the self-check kernel for arch and checks every line and
// the exit status. accel is "tcg", "kvm" or "auto" (a short KVM probe boot
// decides; TCG unless KVM proves to work).
//
// With icount (TCG only), guest time counts instructions: the sleep check
// then measures the guest's own clock, whatever the host's load.
func Selftest(ctx context.Context, arch qemu.Arch, kernel, accel string, icount bool, log io.Writer) (*SelftestResult, error) {
	res := &SelftestResult{Accel: "tcg"}
	if accel == "auto" {
		accel = "tcg"
		res.KVMProbe = "no /dev/kvm"
		if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
			f.Close()
			if r, err := selftestBoot(ctx, arch, kernel, "kvm", false, 20*time.Second, io.Discard); err == nil {
				res.KVMProbe = fmt.Sprintf("kvm probe passed in %v", r.BootWall)
				accel = "kvm"
			} else {
				res.KVMProbe = "kvm probe failed: " + firstLine(err.Error())
			}
		}
	}
	r, err := selftestBoot(ctx, arch, kernel, accel, icount && accel == "tcg", 5*time.Minute, log)
	if r != nil {
		r.KVMProbe = res.KVMProbe
	}
	return r, err
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

func selftestBoot(ctx context.Context, arch qemu.Arch, kernel, accel string, icount bool, timeout time.Duration, log io.Writer) (*SelftestResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := qemu.Config{Arch: arch, MemoryMiB: 1024, Kernel: kernel, Accel: accel, ICount: icount, ConsoleLog: log}
	if arch == qemu.AMD64 {
		cfg.DebugExit = true
	} else {
		cfg.ExtraArgs = append(cfg.ExtraArgs, "-semihosting-config", "enable=on,target=native")
	}
	start := time.Now()
	vm, err := qemu.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	res := &SelftestResult{Accel: accel}
	if icount {
		res.Accel += " -icount shift=0,sleep=off"
	}
	if _, err := vm.Console.Expect(regexp.MustCompile(`^pagesnap selftest: `), timeout); err != nil {
		return nil, fmt.Errorf("no banner: %w", err)
	}
	res.BootWall = time.Since(start)
	if m, err := vm.Console.Expect(regexp.MustCompile(`^selftest: boot: (.*)$`), timeout); err == nil {
		res.GuestBoot = m.Groups[1]
	}
	for _, name := range SelftestChecksFor(arch) {
		m, err := vm.Console.Expect(selftestCheckRE, timeout)
		if err != nil {
			return nil, err
		}
		res.Lines = append(res.Lines, m.Line)
		if m.Groups[1] != name {
			return res, fmt.Errorf("selftest: check %q reported where %q was expected", m.Groups[1], name)
		}
		if m.Groups[2] != "ok" {
			return res, fmt.Errorf("selftest: %s: %s", name, m.Groups[2])
		}
	}
	m, err := vm.Console.Expect(regexp.MustCompile(`^selftest: (PASS|FAIL)$`), timeout)
	if err != nil {
		return res, err
	}
	st, err := vm.Wait(timeout)
	if err != nil {
		return res, err
	}
	res.ExitStatus = st
	if m.Groups[1] != "PASS" {
		return res, fmt.Errorf("selftest: FAIL")
	}
	if arch == qemu.AMD64 {
		if v, ok := st.DebugExit(); !ok || v != 0 {
			return res, fmt.Errorf("selftest: exit %v, want isa-debug-exit 0 (status 1)", st)
		}
	} else if st.Code != 0 || st.Killed {
		return res, fmt.Errorf("selftest: exit %v, want 0", st)
	}
	return res, nil
}
