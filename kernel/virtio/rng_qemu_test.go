//go:build !tamago

package virtio_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
)

// defaultTamagoGo is the project's GOOS=tamago toolchain (see toolchain/).
const defaultTamagoGo = "/work/tc/goroot/bin/go"

// buildRNGTest builds kernel/cmd/rngtest with the tamago toolchain named by
// $TAMAGO_GO (default defaultTamagoGo), skipping the test when it is absent.
func buildRNGTest(t *testing.T) string {
	t.Helper()
	goBin := os.Getenv("TAMAGO_GO")
	if goBin == "" {
		goBin = defaultTamagoGo
	}
	if _, err := os.Stat(goBin); err != nil {
		t.Skipf("no GOOS=tamago toolchain at %s (set TAMAGO_GO to its go binary, or build toolchain/): %v", goBin, err)
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skipf("qemu-system-x86_64 not installed: %v", err)
	}
	root, err := filepath.Abs("../..") // the module root, from kernel/virtio
	if err != nil {
		t.Fatal(err)
	}
	elf := filepath.Join(t.TempDir(), "rngtest.elf")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-ldflags", "-T 0x10010000 -R 0x1000", "-o", elf, "./kernel/cmd/rngtest")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=tamago", "GOARCH=amd64", "CGO_ENABLED=0",
		"PATH="+filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building rngtest with %s: %v\n%s", goBin, err, out)
	}
	return elf
}

// bootRNGTest boots the kernel on microvm (TCG) with extra QEMU arguments
// and returns its console output and isa-debug-exit value.
func bootRNGTest(t *testing.T, elf string, devices, extra []string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vm, err := qemu.Start(ctx, qemu.Config{
		Arch: qemu.AMD64, Board: "microvm", MachineOpts: []string{"x-option-roms=on", "rtc=on"},
		Accel: qemu.TCG, CPU: "max", MemoryMiB: 1024, Kernel: elf, DebugExit: true,
		Devices: devices, ExtraArgs: append([]string{"-no-reboot"}, extra...),
		ConsoleLog: logWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	if _, err := vm.Console.Expect(regexp.MustCompile(`^rngtest: (PASS|FAIL)$`), 3*time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, vm.Console.Output())
	}
	st, err := vm.Wait(time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, vm.Console.Output())
	}
	v, ok := st.DebugExit()
	if !ok {
		t.Fatalf("QEMU %v, not an isa-debug-exit status\n%s", st, vm.Console.Output())
	}
	return vm.Console.Output(), v
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

var pagesLine = regexp.MustCompile(`(?m)^rngtest: dma window .*: (\d+) pages; in use .*: (\d+) pages`)

// TestRNGQEMU boots kernel/cmd/rngtest with a virtio-rng device: the
// device must DMA continuously while the pump runs, every range the
// driver uses must be in dma.InUse and have passed the dma guard, and the
// kernel must report PASS and exit with isa-debug-exit 0 (QEMU status 1).
// Without a device, or with only the legacy transport, the kernel must
// fail with the driver's explanation and exit 1 (QEMU status 3).
func TestRNGQEMU(t *testing.T) {
	elf := buildRNGTest(t)

	t.Run("device", func(t *testing.T) {
		out, v := bootRNGTest(t, elf, []string{"virtio-rng-device"}, []string{"-global", "virtio-mmio.force-legacy=false"})
		if v != 0 || !strings.Contains(out, "\nrngtest: PASS\n") || strings.Contains(out, "FAIL") {
			t.Fatalf("exit %d, want 0 (QEMU status 1) and PASS:\n%s", v, out)
		}
		m := pagesLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no page-count line:\n%s", out)
		}
		window, _ := strconv.Atoi(m[1])
		inUse, _ := strconv.Atoi(m[2])
		if window != 16<<20/4096 { // microvm.DMASize
			t.Errorf("window %d pages, want %d", window, 16<<20/4096)
		}
		if inUse == 0 || inUse >= window {
			t.Errorf("in use %d pages of a %d-page window", inUse, window)
		}
		t.Logf("DMA window %d pages, in use %d pages", window, inUse)
	})

	t.Run("legacy", func(t *testing.T) {
		out, v := bootRNGTest(t, elf, []string{"virtio-rng-device"}, nil)
		want := "rngtest: FAIL virtio: legacy virtio-mmio transport: device 4 only on transport "
		if v != 1 || !strings.Contains(out, want) || !strings.Contains(out, "-global virtio-mmio.force-legacy=false") {
			t.Fatalf("exit %d, want 1 and %q:\n%s", v, want, out)
		}
	})

	t.Run("none", func(t *testing.T) {
		out, v := bootRNGTest(t, elf, nil, nil)
		want := "rngtest: FAIL virtio: no device: no device 4 on the 24 virtio-mmio transports at 0xfeb00000 (devices found: none); attach one with -global virtio-mmio.force-legacy=false -device virtio-rng-device"
		if v != 1 || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want 1 and %q:\n%s", v, want, out)
		}
	})
}
