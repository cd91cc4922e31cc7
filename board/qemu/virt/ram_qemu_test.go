//go:build !tamago

package virt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildTagged builds the self-test kernel with build tags.
func buildTagged(t *testing.T, goBin, tags string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "selftest-"+tags+"-arm64.elf")
	cmd := exec.Command(goBin, "build", "-tags", tags, "-ldflags", linkFlags, "-o", out,
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

// TestRamTag boots the self-test built with the ram256m tag: the runtime's
// memory must end 256 MiB into RAM when the bank also holds the DMA region
// after it, and take the whole bank, with the reason on the console, when
// it does not.
func TestRamTag(t *testing.T) {
	kernel := buildTagged(t, tamagoGo(t), "ram256m")
	const dmaErr = "virt: RAM ends before the DMA region of this ram* build: no DMA region (give QEMU more memory, -m)"
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
