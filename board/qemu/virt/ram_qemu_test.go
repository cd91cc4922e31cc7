//go:build !tamago

package virt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/board/layout"
)

// buildWithRAM builds the self-test kernel for a RAM size, as make kernel
// RAM=ram does: mem_size.go replaced through go build -overlay.
func buildWithRAM(t *testing.T, goBin, ram string) string {
	t.Helper()
	dir := t.TempDir()
	size, err := layout.ParseSize(ram)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	file, src := layout.MemSizeFile(layout.Boards["qemu-virt"], size)
	gen := filepath.Join(dir, "mem_size.go")
	js, err := layout.Overlay(root, file, gen)
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(gen, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ov, js, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "selftest-"+ram+"-arm64.elf")
	cmd := exec.Command(goBin, "build", "-overlay", ov, "-ldflags", linkFlags, "-o", out,
		"github.com/pagesnap/pagesnap/kernel/cmd/selftest")
	var env []string
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

// TestRamSize boots the self-test built for RAM=256M: the runtime's
// memory must end 256 MiB into RAM when the bank also holds the DMA region
// after it, and take the whole bank, with the reason on the console, when
// it does not.
func TestRamSize(t *testing.T) {
	kernel := buildWithRAM(t, tamagoGo(t), "256M")
	const dmaErr = "virt: RAM ends before the DMA region of this RAM= build: no DMA region (give QEMU more memory, -m)"
	for _, tc := range []struct {
		memMiB     int
		runtimeEnd uint64
		dmaErr     bool
	}{
		{640, DTBAddress + 256<<20, false},
		{256 + 16, DTBAddress + 256<<20, false}, // exactly room for the DMA region
		{256 + 8, DTBAddress + (256+8)<<20, true},
	} {
		t.Run(fmt.Sprintf("%dM", tc.memMiB), func(t *testing.T) {
			lines, st := boot(t, kernel, "max", tc.memMiB, true, semihosting)
			requireLines(t, lines, "selftest: PASS", fmt.Sprintf("selftest: memory: runtime %#x-%#x, device tree RAM %#x-%#x",
				RamStart, tc.runtimeEnd, DTBAddress, DTBAddress+uint64(tc.memMiB)<<20))
			got := false
			for _, l := range lines {
				got = got || l == dmaErr
			}
			if got != tc.dmaErr {
				t.Errorf("DMA region message printed: %v, want %v\n%s", got, tc.dmaErr, strings.Join(lines, "\n"))
			}
			if st.Killed || st.Signal != 0 || st.Code != 0 {
				t.Errorf("QEMU ended with %v, want exit status 0", st)
			}
		})
	}
}
