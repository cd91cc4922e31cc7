package qemu

import (
	"fmt"
	"os"
	"testing"
)

// StartTest starts QEMU for a test: QEMU is killed when the test ends
// (whether it passed, failed or timed out: t.Context is cancelled before
// cleanups run), and on failure the last console lines and QEMU's
// standard error are logged. A missing QEMU binary fails the test (with
// ErrNoQEMU's install hint): the harness's checks are not optional.
func StartTest(t testing.TB, cfg Config) *VM {
	t.Helper()
	vm, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		vm.Kill()
		if t.Failed() {
			t.Logf("QEMU %s%s", vm.Status(), vm.Console.tail(40))
			if s := vm.Stderr(); s != "" {
				t.Logf("QEMU stderr:\n%s", s)
			}
		}
	})
	return vm
}

// Missing ends a test that cannot run because a kernel, the GOOS=tamago
// toolchain or QEMU is missing: a skip that says why, or, under CI=true,
// a failure (there a test that did not run must not read as passed).
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: a missing kernel, toolchain or QEMU fails the test)", msg)
	}
	t.Skip(msg)
}
