package live

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// diskRun runs RunDisk on the kernel named by env and fails unless the
// disk image, read back from the host's file, equals memory at the
// instant bit for bit.
func diskRun(t *testing.T, env string, o DiskOptions) *DiskReport {
	t.Helper()
	o.Kernel = kernelFor(t, env)
	o.Log = logWriter{t}
	o.Dir = os.Getenv("PAGESNAP_DISK_KEEP") // keep snap.img and reference.bin there
	rep, err := RunDisk(context.Background(), o)
	if err != nil {
		if rep != nil && rep.Verify != nil {
			t.Log(rep.Verify)
		}
		t.Fatal(err)
	}
	t.Log(rep)
	if rep.WritesDuring == 0 {
		t.Fatalf("the workload wrote nothing while the snapshot ran: %+v", rep)
	}
	if rep.HighWater == 0 || rep.HighWater > rep.BufferPages || rep.Verify.Compared != rep.Verify.Matched {
		t.Fatalf("figures: %+v", rep)
	}
	// The drain keeps to its share: disk requests are asynchronous and
	// a tick's overrun is paid back by the next ticks (kernel tickDrain).
	// (Ticks come late under TCG, so the share is often under the
	// setting; a tick's last step may overrun it a little.)
	if sh := rep.Shares; sh.ShareSetting != 20 || sh.DrainShare > float64(sh.ShareSetting)*1.1 || sh.DrainShare < 5 {
		t.Fatalf("drain share %.1f %%, setting %d %%", sh.DrainShare, sh.ShareSetting)
	}
	return rep
}

// diskOnly checks that rep's guest could not hold an image in RAM (its
// memory is under twice the captured RAM, its storage smaller than the
// captured RAM) and that the snapshot's RAM region fits that storage.
func diskOnly(t *testing.T, rep *DiskReport) {
	t.Helper()
	captured := capturedBytes(rep.Layout.Captured)
	st := rep.Layout.Storage
	if uint64(rep.GuestMiB)<<20 >= 2*captured || st.Size >= captured || rep.RAMBytes == 0 || rep.RAMBytes > st.Size {
		t.Fatalf("not a disk-only guest: %d MiB of guest memory, %d MiB captured, storage %v, the snapshot's RAM region %d bytes",
			rep.GuestMiB, captured>>20, st, rep.RAMBytes)
	}
	t.Logf("the snapshot needed %d KiB of RAM (%.1f %% of the %d MiB captured) in a %d MiB guest",
		rep.RAMBytes>>10, float64(rep.RAMBytes)*100/float64(captured), captured>>20, rep.GuestMiB)
}

// TestDiskAMD64: a snapshot streamed to virtio-blk on microvm under the
// never-blocking workload, default buffer, verified from the host's disk
// file against the reference at the instant. The guest is disk-only: too
// little RAM for an image in RAM (layout.DiskImageMiB).
func TestDiskAMD64(t *testing.T) {
	diskOnly(t, diskRun(t, "PAGESNAP_KERNEL_AMD64", DiskOptions{DiskOnly: true}))
}

// TestDiskARM64: the same on virt.
func TestDiskARM64(t *testing.T) {
	diskOnly(t, diskRun(t, "PAGESNAP_KERNEL_ARM64", DiskOptions{DiskOnly: true}))
}

// TestDiskBufferFull: a 4 MiB buffer (the eager set takes half) and a
// disk throttled to 32 MiB/s (QEMU throttling.bps-write), so that the
// workload's faults find the buffer full and wait for the drain: still
// complete and bit-exact. (README quotes a 4 MiB/s run too.) The guest
// has 600 MiB of RAM, too little for a RAM image of its 527 MiB captured
// (1088 MiB): the kernel has only a buffer's worth of storage.
func TestDiskBufferFull(t *testing.T) {
	rep := diskRun(t, "PAGESNAP_KERNEL_AMD64", DiskOptions{Buffer: "4M", BpsWrite: 32 << 20, MemoryMiB: 600})
	if st := rep.Layout.Storage; st.End() > 600<<20 || st.Size > 100<<20 {
		t.Fatalf("storage %v: not the small region of a 600 MiB guest", st)
	}
	diskOnly(t, rep)
	if rep.FullFaults == 0 || rep.HighWater+8 < rep.BufferPages {
		t.Fatalf("the buffer never filled: %+v", rep)
	}
}

// TestDiskOverKeptImageARM64: with a complete image kept in RAM, snap
// start disk (whose buffer is the RAM storage) is refused with the
// kept-image error, and snap start disk overwrite discards the kept image
// and streams to the disk; that disk image is kept in turn until snap
// discard. (The overwrite once left the storage
// write-protected: the engine's Start faulted on it and the kernel died.)
func TestDiskOverKeptImageARM64(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	k := kernelFor(t, "PAGESNAP_KERNEL_ARM64")
	mem, err := MemoryFor(qemu.ARM64, "256M")
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "snap.img")
	if err := fillDisk(img, int64(mem)<<20); err != nil {
		t.Fatal(err)
	}
	cfg, err := machine(qemu.ARM64, mem, k)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConsoleLog = logWriter{t}
	cfg.Devices = append(cfg.Devices, "virtio-rng-device", "virtio-blk-device,drive=d")
	cfg.ExtraArgs = append(cfg.ExtraArgs, "-global", "virtio-mmio.force-legacy=false", "-drive", "file="+img+",if=none,id=d,format=raw")
	vm, err := qemu.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	if _, err := vm.Console.ExpectString("pagesnap: ready", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	completeOrStopped := regexp.MustCompile(regexp.QuoteMeta(lines.CompletePrefix) + " |" + regexp.QuoteMeta(lines.StoppedPrefix) + "|error: ")
	expect := func(re *regexp.Regexp, want string) string {
		t.Helper()
		m, err := vm.Console.Expect(re, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimLeft(m.Line, "> ") // after the console's prompt
		if !strings.HasPrefix(line, want) {
			t.Fatalf("got %q, want %q...", m.Line, want)
		}
		return line
	}
	vm.Send("snap start")
	expect(completeOrStopped, lines.CompletePrefix)
	vm.Send("snap start disk")
	expect(regexp.MustCompile(`error: |`+regexp.QuoteMeta(lines.StartedPrefix)), "error: "+kernelErrKept)
	vm.Send("snap start disk overwrite")
	expect(completeOrStopped, lines.CompletePrefix)
	expect(regexp.MustCompile(regexp.QuoteMeta(lines.DiskPrefix)+" "), lines.DiskPrefix)
	vm.Send("snap protected")
	expect(regexp.MustCompile(`snap: read-only pages: `), "snap: read-only pages: captured=0 storage=0/")
	// The disk's complete image is kept too: refused, then released by
	// snap discard, then overwritten.
	started := regexp.MustCompile(`error: |` + regexp.QuoteMeta(lines.StartedPrefix))
	vm.Send("snap start disk")
	expect(started, "error: "+kernelErrDiskKept)
	vm.Send("snap discard")
	vm.Send("snap start disk")
	expect(started, lines.StartedPrefix)
	expect(completeOrStopped, lines.CompletePrefix)
}

// kernelErrDiskKept is kernel.ErrDiskKept's text.
const kernelErrDiskKept = "snap: the disk holds a complete image (of this boot or found at boot)"

// kernelErrKept is kernel.ErrKept's text (package kernel builds only for
// GOOS=tamago).
const kernelErrKept = "snap: storage holds a complete image, kept write-protected"

// TestDiskKeptAcrossRebootARM64: a complete image on the disk outlives
// the boot that took it. The kernel reads the disk's header at boot: after
// a snapshot to disk and a reboot of QEMU with the same disk file, snap
// start disk is refused with the kept-image error, snap start disk
// overwrite replaces the image, and the new image verifies on the host.
// (Disk-only guest, no workload: two short boots.)
func TestDiskKeptAcrossRebootARM64(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	k := kernelFor(t, "PAGESNAP_KERNEL_ARM64")
	mem, err := DiskMemoryFor(qemu.ARM64, "256M")
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "snap.img")
	if err := fillDisk(img, int64(mem)<<20); err != nil {
		t.Fatal(err)
	}
	boot := func() *qemu.VM {
		t.Helper()
		cfg, err := machine(qemu.ARM64, mem, k)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ConsoleLog = logWriter{t}
		cfg.Devices = append(cfg.Devices, "virtio-rng-device", "virtio-blk-device,drive=d")
		cfg.ExtraArgs = append(cfg.ExtraArgs, "-global", "virtio-mmio.force-legacy=false", "-drive", "file="+img+",if=none,id=d,format=raw")
		vm, err := qemu.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return vm
	}
	completeOrStopped := regexp.MustCompile(regexp.QuoteMeta(lines.CompletePrefix) + " |" + regexp.QuoteMeta(lines.StoppedPrefix) + "|error: ")
	started := regexp.MustCompile(`error: |` + regexp.QuoteMeta(lines.StartedPrefix))
	expect := func(vm *qemu.VM, re *regexp.Regexp, want string) string {
		t.Helper()
		m, err := vm.Console.Expect(re, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimLeft(m.Line, "> ")
		if !strings.HasPrefix(line, want) {
			t.Fatalf("got %q, want %q...", m.Line, want)
		}
		return line
	}
	snapToDisk := func(vm *qemu.VM, cmd string) {
		t.Helper()
		vm.Send(cmd)
		expect(vm, started, lines.StartedPrefix)
		expect(vm, completeOrStopped, lines.CompletePrefix)
		expect(vm, diskRE, lines.DiskPrefix)
		vm.Send("exit 0")
		vm.Wait(time.Minute)
		vm.Kill()
	}
	readImage := func() *snapshot.Image {
		t.Helper()
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		im, err := snapshot.ReadImage(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if err := im.Verify(); err != nil {
			t.Fatal(err)
		}
		return im
	}

	vm := boot()
	defer func() { vm.Kill() }()
	if m, err := vm.Console.Expect(regexp.MustCompile(`pagesnap: ready|pagesnap: the disk holds`), 2*time.Minute); err != nil || !strings.Contains(m.Line, "ready") {
		t.Fatalf("first boot: %v %v (a blank disk holds no image)", m, err)
	}
	snapToDisk(vm, "snap start disk")
	first := readImage()

	vm = boot()
	expect(vm, regexp.MustCompile(`pagesnap: ready|pagesnap: the disk holds`), "pagesnap: the disk holds a complete image")
	if _, err := vm.Console.ExpectString("pagesnap: ready", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	vm.Send("snap start disk")
	expect(vm, started, "error: "+kernelErrDiskKept)
	if im := readImage(); im.Instant != first.Instant {
		t.Fatalf("the refused start changed the disk: instant %d, was %d", im.Instant, first.Instant)
	}
	snapToDisk(vm, "snap start disk overwrite")
	if im := readImage(); im.Instant == first.Instant {
		t.Fatalf("snap start disk overwrite left the first image (instant %d)", im.Instant)
	}
}
