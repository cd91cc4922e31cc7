package qemu_test

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
)

// TestSelftestKernel boots the GOOS=tamago selftest kernel
// (kernel/cmd/selftest) named by $PAGESNAP_SELFTEST_AMD64 and checks it
// reports PASS and ends the machine with isa-debug-exit 0. It is skipped,
// saying so, when the variable is unset.
func TestSelftestKernel(t *testing.T) {
	k := os.Getenv("PAGESNAP_SELFTEST_AMD64")
	if k == "" {
		t.Skip("PAGESNAP_SELFTEST_AMD64 is not set: build kernel/cmd/selftest with the tamago toolchain to run this test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, Board: "microvm", MemoryMiB: 1024, Kernel: k, DebugExit: true,
		ConsoleLog: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	m, err := vm.Console.Expect(regexp.MustCompile(`^selftest: (PASS|FAIL)$`), 8*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if m.Groups[1] != "PASS" {
		t.Fatalf("selftest: %s\n%s", m.Groups[1], vm.Console.Output())
	}
	st, err := vm.Wait(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := st.DebugExit(); !ok || v != 0 {
		t.Fatalf("exit: %v", st)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}
