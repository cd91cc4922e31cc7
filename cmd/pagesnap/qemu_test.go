package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/live"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

// markSymbol is the kernel global the workload rewrites (kernel/mark.go).
const markSymbol = "github.com/pagesnap/pagesnap/kernel.Mark"

// needKernel returns the kernel named by env. Unset, the test skips — but
// not under CI=true, where a missing kernel is a failure.
func needKernel(t *testing.T, env string) string {
	t.Helper()
	k := os.Getenv(env)
	if k == "" {
		qemu.Missing(t, "%s is not set: `make test` builds the kernels and sets it", env)
	}
	if _, err := os.Stat(k); err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return k
}

type testLog struct{ t *testing.T }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

var (
	startedMarkRE = regexp.MustCompile(`snap: started .* mark=(0x[0-9a-f]+)|error: .*`)
	completeRE    = regexp.MustCompile(`snap: complete pages=(\d+)`)
	arrayRE       = regexp.MustCompile(`work: running=true .* array=(0x[0-9a-f]+)\+(0x[0-9a-f]+)`)
	layoutLineRE  = regexp.MustCompile(`layout: captured=.*`)
)

// TestQEMUSnapshotsInGDB boots the pagesnap kernel (256M) in QEMU with
// its RAM in a memory-backend-file, runs the write-heavy workload and
// takes two live snapshots in sequence (the workload runs before and
// during each, and stops while the drain finishes), saving the storage
// region after each (QMP pmemsave). Then, with this CLI:
//   - verify passes on both images and on the RAM dump (found by scanning);
//   - info lists the storage as an excluded range;
//   - diff of an image with itself is empty; diff of the two names every
//     page of the workload's array and the page of kernel.Mark, and never
//     kernel text or rodata;
//   - elf converts each image into a core in which gdb, given the kernel
//     ELF, prints kernel.Mark with the value the kernel printed at that
//     snapshot's instant (the two values differ: the workload kept
//     rewriting it).
//
// amd64 runs on microvm with gdb; arm64 on virt with gdb-multiarch (the
// Debian gdb package debugs the host's architecture only).
func TestQEMUSnapshotsInGDB(t *testing.T) {
	t.Run("amd64", func(t *testing.T) { snapshotsInGDB(t, qemu.AMD64, "PAGESNAP_KERNEL_AMD64_256M", "gdb") })
	t.Run("arm64", func(t *testing.T) { snapshotsInGDB(t, qemu.ARM64, "PAGESNAP_KERNEL_ARM64", "gdb-multiarch") })
}

func snapshotsInGDB(t *testing.T, arch qemu.Arch, kernelEnv, gdbName string) {
	kernel := needKernel(t, kernelEnv)
	gdbBin, err := exec.LookPath(gdbName)
	if err != nil {
		t.Fatalf("%s is not installed (Debian package %s; make deps installs it): %v", gdbName, gdbName, err)
	}
	// RAM and images in tmpfs when there is one: pmemsave of 530 MiB to
	// a disk shared with other guests can outlast the QMP timeout.
	dir := t.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err = os.MkdirTemp("/dev/shm", "pagesnap-cli-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	ramPath := filepath.Join(dir, "ram")
	mem, err := live.MemoryFor(arch, "256M")
	if err != nil {
		t.Fatal(err)
	}
	cfg := qemu.Config{Arch: arch, MemoryMiB: mem, Kernel: kernel, MemPath: ramPath, ConsoleLog: testLog{t},
		Devices:   []string{"virtio-rng-device"},
		ExtraArgs: []string{"-global", "virtio-mmio.force-legacy=false"}}
	switch arch {
	case qemu.AMD64:
		cfg.Board, cfg.DebugExit = "microvm", true
	case qemu.ARM64:
		cfg.Board, cfg.CPU = "virt", "max"
		cfg.ExtraArgs = append(cfg.ExtraArgs, "-semihosting-config", "enable=on,target=native")
	}
	vm := qemu.StartTest(t, cfg)
	lm, err := vm.Console.Expect(layoutLineRE, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	layout, err := live.ParseLayout(lm.Line)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Console.ExpectString("pagesnap: ready", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := vm.Send("work start"); err != nil {
		t.Fatal(err)
	}
	am, err := vm.Console.Expect(arrayRE, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	array := snapshot.Range{Base: h(am.Groups[1]), Size: h(am.Groups[2])}
	q, err := vm.QMP()
	if err != nil {
		t.Fatal(err)
	}
	qemu.QMPTimeout = 5 * time.Minute // pmemsave of 530 MiB on a loaded host
	// start is the command of each snapshot: a complete image is kept
	// write-protected, so the second replaces the first (already saved to
	// the host) with overwrite.
	snap := func(name, start string) (path string, mark uint64) {
		t.Helper()
		time.Sleep(2 * time.Second) // the workload runs (wall time: TCG guests run slower)
		if err := vm.Send(start); err != nil {
			t.Fatal(err)
		}
		m, err := vm.Console.Expect(startedMarkRE, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if m.Groups[1] == "" {
			t.Fatalf("snap start: %s", m.Line)
		}
		// The workload keeps writing through the snapshot (faults,
		// copy-before-write) until the image is complete: the drain
		// gets its share of the CPU from the timer tick (share=50%, as
		// in qemu/live: the default 20% would take long under TCG on a
		// loaded host) and the idle time the workload leaves.
		if _, err := vm.Console.Expect(completeRE, 20*time.Minute); err != nil {
			t.Fatal(err)
		}
		// The guest stopped while QEMU saves the region: the host's CPU
		// goes to the copy.
		path = filepath.Join(dir, name)
		if err := q.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := q.Pmemsave(layout.Storage.Base, layout.Storage.Size, path); err != nil {
			t.Fatal(err)
		}
		if err := q.Cont(); err != nil {
			t.Fatal(err)
		}
		return path, h(m.Groups[1])
	}
	imgA, markA := snap("a.img", "snap start share=50%")
	imgB, markB := snap("b.img", "snap start share=50% overwrite")
	if err := q.Stop(); err != nil { // the RAM file holds image B now
		t.Fatal(err)
	}
	t.Logf("array %v, mark at A %#x, at B %#x", array, markA, markB)
	if markA == markB {
		t.Fatalf("Mark did not change between the snapshots (%#x): the workload did not run", markA)
	}

	for _, img := range []string{imgA, imgB, ramPath} {
		want(t, []string{"verify", img}, exitOK, "verified: ", "")
	}
	o := want(t, []string{"info", ramPath}, exitOK, "", "")
	if s := fmt.Sprintf("at offset %#x of a RAM dump (found by its header)", layout.Storage.Base-arch.RAMBase(cfg.Board)); !strings.Contains(o, s) {
		t.Fatalf("info of the RAM dump lacks %q:\n%s", s, o)
	}
	st := layout.Storage
	want(t, []string{"info", imgA}, exitOK, fmt.Sprintf("  0x%012x-0x%012x  %9s  storage\n", st.Base, st.End(), mib(st.Size)), "")
	want(t, []string{"diff", imgB, ramPath}, exitOK, "0 pages differ", "")
	want(t, []string{"diff", "-kernel", kernel, imgA, imgA}, exitOK, "0 pages differ", "")

	o = want(t, []string{"diff", "-kernel", kernel, imgA, imgB}, exitFound, "", "")
	differ := map[uint64]string{}
	lineRE := regexp.MustCompile(`^0x([0-9a-f]{12})  (.*)$`)
	for _, l := range strings.Split(o, "\n") {
		if m := lineRE.FindStringSubmatch(l); m != nil {
			differ[h(m[1])] = m[2]
		}
	}
	owners, err := verify.LoadOwners(kernel)
	if err != nil {
		t.Fatal(err)
	}
	markPA, ok := owners.Symbol(markSymbol)
	if !ok {
		t.Fatalf("kernel has no %s", markSymbol)
	}
	if _, ok := differ[markPA&^0xfff]; !ok {
		t.Errorf("the page of %s (%#x) is not in the diff", markSymbol, markPA)
	}
	missing := 0
	for pa := array.Base &^ 0xfff; pa < array.End(); pa += 4096 {
		if _, ok := differ[pa]; !ok {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the workload array's %d pages are not in the diff", missing, (array.End()-array.Base&^0xfff+4095)/4096)
	}
	for pa, l := range differ {
		if strings.Contains(l, "kernel text") || strings.Contains(l, "kernel rodata") {
			t.Errorf("page %#x of the kernel's text or rodata differs: %s", pa, l)
		}
	}
	t.Logf("diff A B: %d pages; summary:\n%s", len(differ), o[strings.LastIndex(o, "pages differ"):])

	for _, c := range []struct {
		img  string
		mark uint64
	}{{imgA, markA}, {imgB, markB}} {
		core := c.img + ".core"
		want(t, []string{"elf", "-kernel", kernel, "-o", core, c.img}, exitOK, "ELF core, ", "")
		cmd := exec.Command(gdbBin, "-batch", "-nx", "-ex", "print/x '"+markSymbol+"'", kernel, core)
		out, err := cmd.CombinedOutput()
		t.Logf("%s\n%s", strings.Join(cmd.Args, " "), out)
		if err != nil {
			t.Fatalf("gdb: %v", err)
		}
		wantLine := fmt.Sprintf("$1 = %#x", c.mark)
		if !strings.Contains(string(out), wantLine+"\n") {
			t.Fatalf("gdb printed\n%s\nwant %q (the value the kernel printed at the instant)", out, wantLine)
		}
	}
}

func h(s string) uint64 {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		panic(err)
	}
	return v
}
