package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

// DiskOptions configures RunDisk: a snapshot streamed to a virtio-blk disk
// under the never-blocking write-heavy workload.
type DiskOptions struct {
	Kernel string
	Arch   qemu.Arch // empty: from the kernel ELF
	RAM    string    // kernel RAM size ("256M"); empty: from the kernel name
	// Buffer is the snap start buffer= value ("" for the default).
	Buffer string
	// BpsWrite, if not 0, throttles the drive's writes to this many
	// bytes per second (QEMU throttling.bps-write): a slow disk.
	BpsWrite int64
	// MemoryMiB, if not 0, is the guest RAM instead of the size a RAM
	// image needs (the kernel then has only a buffer's worth of storage).
	MemoryMiB int
	// DiskOnly gives the guest the memory of a disk-only machine
	// (DiskMemoryFor) unless MemoryMiB is set.
	DiskOnly bool
	Timeout  time.Duration // 0: 20 minutes
	Log      io.Writer
	// Dir keeps the disk file and the reference (empty: a temporary
	// directory, removed).
	Dir string
}

// DiskReport is what RunDisk measured.
type DiskReport struct {
	Arch     qemu.Arch
	Layout   Layout
	Started  string // the snap: started line
	Complete string // the snap: complete line
	Disk     string // the snap: disk line
	// Buffer figures from the disk line: slots, high-water mark (the
	// memory the snapshot needed for copies, in pages), faults a full
	// buffer turned away, disk writes, the RAM region of the backend.
	BufferPages, HighWater, FullFaults, Writes, RAMBytes uint64
	GuestMiB                                             int           // the guest's memory
	Total                                                time.Duration // guest time from Start to complete
	Shares                                               lines.Shares  // the drain's CPU share (snap: complete)
	WritesDuring                                         uint64        // workload writes between started and complete
	Verify                                               *verify.Report
}

func (r *DiskReport) String() string {
	return fmt.Sprintf("%s: %d pages captured (%d MiB) in a %d MiB guest; the snapshot's RAM region %d KiB; buffer %d pages, high-water %d pages (%d KiB); %d faults waited on a full buffer; %d disk writes; guest time to complete %v (drain share %.1f %%, setting %d %%); workload writes during the capture %d; compared %d pages, %d matched",
		r.Arch, r.Verify.Pages, capturedBytes(r.Layout.Captured)>>20, r.GuestMiB, r.RAMBytes>>10, r.BufferPages, r.HighWater, r.HighWater*4, r.FullFaults, r.Writes,
		r.Total, r.Shares.DrainShare, r.Shares.ShareSetting, r.WritesDuring, r.Verify.Compared, r.Verify.Matched)
}

var diskRE = regexp.MustCompile(regexp.QuoteMeta(lines.DiskPrefix) + " ")

// RunDisk boots the kernel with a virtio-blk disk backed by a file, runs
// the never-blocking workload, takes a snapshot to the disk ("snap start
// disk") while the harness saves the reference at the instant, waits for
// completion with the workload still running, exits QEMU and compares the
// disk file, read back from the host, with the reference bit for bit.
func RunDisk(ctx context.Context, o DiskOptions) (rep *DiskReport, err error) {
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	t, err := resolveTarget(o.Kernel, o.Arch, o.RAM)
	if err != nil {
		return nil, err
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pagesnap-disk-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	// The disk: larger than any image of this RAM size, filled with a
	// pattern (not zeros, which many pages hold at the instant), so that
	// a page the snapshot never wrote shows.
	img := filepath.Join(dir, "snap.img")
	if err := fillDisk(img, int64(t.mem+64)<<20); err != nil {
		return nil, err
	}
	drive := "file=" + img + ",if=none,id=d,format=raw"
	if o.BpsWrite != 0 {
		drive += ",throttling.bps-write=" + strconv.FormatInt(o.BpsWrite, 10)
	}
	if o.DiskOnly && o.MemoryMiB == 0 {
		if o.MemoryMiB, err = DiskMemoryFor(t.arch, o.RAM); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	guestMiB := t.mem
	vm, g, err := startVM(ctx, t, o.Kernel, o.Log, []string{"virtio-rng-device", "virtio-blk-device,drive=d"},
		func(c *qemu.Config) {
			c.ExtraArgs = append(c.ExtraArgs, "-drive", drive)
			if o.MemoryMiB != 0 {
				c.MemoryMiB = o.MemoryMiB
			}
			guestMiB = c.MemoryMiB
		})
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	rep = &DiskReport{Arch: t.arch, GuestMiB: guestMiB}
	g.Continue()
	if rep.Layout, err = waitLayout(vm); err != nil {
		return nil, err
	}
	if _, err := vm.Console.ExpectString("pagesnap: virtio-blk on transport", time.Minute); err != nil {
		return nil, fmt.Errorf("live: the kernel found no disk: %w", err)
	}
	if _, err := vm.Console.ExpectString("pagesnap: ready", time.Minute); err != nil {
		return nil, err
	}
	if err := vm.Send(workStart("cpu")); err != nil {
		return nil, err
	}
	if _, _, err := guestSleep(vm, time.Second); err != nil {
		return nil, err
	}
	span := snapshot.Range{Base: rep.Layout.Captured[0].Base}
	last := rep.Layout.Captured[len(rep.Layout.Captured)-1]
	span.Size = last.End() - span.Base
	refPath := filepath.Join(dir, "reference.bin")
	start := "snap start disk"
	if o.Buffer != "" {
		start += " buffer=" + o.Buffer
	}
	if err := vm.ReferenceRangeAt(t.instant, func() error { return vm.Send(start) }, span, refPath, referenceTimeout); err != nil {
		return nil, err
	}
	if rep.Started, err = expectStarted(vm); err != nil {
		return nil, err
	}
	d0, err := sampleWork(vm)
	if err != nil {
		return nil, err
	}
	cm, err := vm.Console.Expect(regexp.MustCompile(completeRE.String()+"|"+regexp.QuoteMeta(lines.StoppedPrefix)), o.Timeout)
	if err != nil {
		return nil, err
	}
	rep.Complete = cm.Line
	dm, err := vm.Console.Expect(diskRE, time.Minute)
	if err != nil {
		return nil, err
	}
	rep.Disk = dm.Line
	if !completeRE.MatchString(cm.Line) {
		return rep, fmt.Errorf("live: the snapshot to disk did not complete: %s (%s)", cm.Line, dm.Line)
	}
	cl, err := lines.ParseComplete(cm.Line)
	if err != nil {
		return nil, err
	}
	rep.Total, rep.Shares = cl.Total, cl.Shares
	d1, err := sampleWork(vm)
	if err != nil {
		return nil, err
	}
	rep.WritesDuring = d1.writes - d0.writes
	dl, err := lines.ParseDisk(dm.Line)
	if err != nil {
		return rep, err
	}
	rep.BufferPages, rep.HighWater, rep.FullFaults, rep.Writes, rep.RAMBytes = dl.BufferPages, dl.HighWater, dl.FullFaults, dl.Writes, dl.RAMBytes
	vm.Send("exit 0")
	vm.Wait(time.Minute)
	rep.Verify, err = compare(refPath, span.Base, img, o.Kernel, rep.Layout)
	if err != nil {
		return rep, err
	}
	if !rep.Verify.OK() {
		return rep, fmt.Errorf("live: the disk image does not match the reference: %w", rep.Verify.Err())
	}
	return rep, nil
}

// diskFill is the pattern of a fresh disk file.
const diskFill = "unwritten disk! "

// fillDisk creates the file path of size bytes filled with diskFill.
func fillDisk(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	chunk := []byte(strings.Repeat(diskFill, 1<<20/len(diskFill)))
	for off := int64(0); off < size; off += int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), size-off)]); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// capturedBytes is the size of the captured ranges.
func capturedBytes(rs []snapshot.Range) uint64 {
	var n uint64
	for _, r := range rs {
		n += r.Size
	}
	return n
}
