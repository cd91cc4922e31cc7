package qemu_test

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/internal/imagetest"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

// TestSelftestKernel boots the GOOS=tamago selftest kernel
// (kernel/cmd/selftest) named by $PAGESNAP_SELFTEST_AMD64 and checks it
// reports PASS and ends the machine with isa-debug-exit 0. It is skipped,
// saying so, when the variable is unset.
func TestSelftestKernel(t *testing.T) {
	// -cpu max has XSAVE and AVX: the runtime's entry enables them, and
	// the kernel's interrupt entries must save them with XSAVE (the
	// xsave check proves the save against an FXSAVE control).
	selftestKernel(t, "", "selftest: xsave: XSAVE XCR0=0x7 ")
}

// TestSelftestKernelNoXSAVE boots the self-test kernel on a processor
// without XSAVE (-cpu max,-xsave): the runtime's entry leaves CR4.OSXSAVE
// clear, the kernel's interrupt entries keep FXSAVE, and the xsave check
// finds XMM0-15 kept across a tick; every other check passes as well.
func TestSelftestKernelNoXSAVE(t *testing.T) {
	selftestKernel(t, "max,-xsave", "selftest: xsave: FXSAVE (no CR4.OSXSAVE): XMM0-15 kept across a tick")
}

// selftestKernel boots the self-test kernel on -cpu model cpu ("": the
// default) and requires PASS, exit status 0 and the line xsave.
func selftestKernel(t *testing.T, cpu, xsave string) {
	k := os.Getenv("PAGESNAP_SELFTEST_AMD64")
	if k == "" {
		qemu.Missing(t, "PAGESNAP_SELFTEST_AMD64 is not set: build kernel/cmd/selftest with the tamago toolchain to run this test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Under icount (guest time counts instructions) the timing checks
	// (sleep accuracy, preemption while sleeping) measure the guest, not
	// how much of the host QEMU gets.
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, Board: "microvm", CPU: cpu, MemoryMiB: 1024, Kernel: k, DebugExit: true,
		ICount: true, ConsoleLog: testWriter{t}})
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
	if !strings.Contains(vm.Console.Output(), xsave) {
		t.Fatalf("no %q line\n%s", xsave, vm.Console.Output())
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

// TestSelftestKernelReference stops the real tamago kernel at a Go
// function (as the snapshot step stops at the instant), saves the
// reference image, checks it holds the kernel's text bit for bit where the
// ELF says, and runs a page comparison whose mismatch names the Go symbol.
func TestSelftestKernelReference(t *testing.T) {
	k := os.Getenv("PAGESNAP_SELFTEST_AMD64")
	if k == "" {
		qemu.Missing(t, "PAGESNAP_SELFTEST_AMD64 is not set: build kernel/cmd/selftest with the tamago toolchain to run this test")
	}
	owners, err := verify.LoadOwners(k)
	if err != nil {
		t.Fatal(err)
	}
	instant, ok := owners.Symbol("main.checkGC")
	if !ok {
		t.Fatal("no main.checkGC in the selftest kernel")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, MemoryMiB: 1024, Kernel: k, DebugExit: true, GDB: true, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	g, err := vm.GDB()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Continue(); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "ref.bin")
	base, err := vm.ReferenceAt(owners.Virtual(instant), nil, ref, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Console.ExpectString("selftest: gc: ok", 2*time.Minute); err != nil {
		t.Fatal(err) // the kernel went on after the reference was taken
	}
	// The text segment in the reference equals the ELF's.
	f, err := elf.Open(k)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := f.Section(".text")
	want, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	mem, err := verify.OpenPhys(ref, base)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	got, err := mem.Read(text.Addr, text.Size)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("kernel .text in the reference differs from the ELF")
	}
	// An image of the page holding main.checkGC, with one byte of the
	// function changed, is reported against that symbol.
	ram, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	page := instant &^ 0xfff
	ram[instant-base+4] ^= 0xff
	img, err := imagetest.Encode(ram, base, 4096, []snapshot.Range{{Base: page, Size: 4096}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	im, err := verify.ReadImage(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	rep := verify.Compare(mem, im, owners)
	if len(rep.Mismatches) != 1 || rep.Mismatches[0].Owner.String() != "kernel text (.text main.checkGC+0x4)" || rep.Mismatches[0].Addr != page {
		t.Fatalf("%s", rep)
	}
}
