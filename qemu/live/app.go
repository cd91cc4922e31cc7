package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/gdb"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

// AppOptions configure App.
type AppOptions struct {
	// Kernel is the application's ELF: any TamaGo application that
	// embeds pagesnap (package pagesnap) on pagesnap's QEMU board.
	Kernel string
	// RAM is its runtime's memory as built (make kernel RAM=; "": 256M).
	RAM string
	// Trigger, if set, makes the application start its snapshot (for
	// example by sending a console command); nil: the application
	// triggers it itself.
	Trigger func(vm *qemu.VM) error
	// Timeout bounds the run (default 30 minutes).
	Timeout time.Duration
	// Log receives the console lines.
	Log io.Writer
	// Devices are extra -device arguments (e.g. virtio-rng-device).
	Devices []string
}

// AppReport is what App found.
type AppReport struct {
	Layout   Layout
	Complete string // the snap: complete line
	Verify   *verify.Report
}

// App takes one snapshot of an application that embeds pagesnap and
// verifies it bit for bit, using only the lines package pagesnap prints
// (layout: from Open, snap: complete when the image is complete): it boots
// the application stopped, puts a breakpoint on the snapshot instant, lets
// it run (and calls Trigger), saves the captured span when the instant is
// reached, waits for the image, reads it out of guest memory and compares
// it with the reference page by page. The application's own work and
// output are its business.
func App(ctx context.Context, o AppOptions) (rep *AppReport, err error) {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	t, err := resolveTarget(o.Kernel, "", o.RAM)
	if err != nil {
		return nil, err
	}
	instant := t.instant
	dir, err := os.MkdirTemp("", "pagesnap-app-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	vm, g, err := startVM(ctx, t, o.Kernel, o.Log, o.Devices, func(c *qemu.Config) { c.Paused = true })
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	// The breakpoint is in place before the application runs: it cannot
	// take its snapshot before the harness is ready.
	if err := g.SetBreakpoint(gdb.Hardware, instant, 1); err != nil {
		return nil, err
	}
	if err := g.Continue(); err != nil {
		return nil, err
	}
	rep = &AppReport{}
	if rep.Layout, err = waitLayout(vm); err != nil {
		return nil, err
	}
	if o.Trigger != nil {
		if err := o.Trigger(vm); err != nil {
			return nil, err
		}
	}
	if _, err := g.Wait(o.Timeout); err != nil {
		return nil, fmt.Errorf("live: the snapshot instant was not reached: %w", err)
	}
	if pc, err := g.PC(); err != nil || pc != instant {
		return nil, fmt.Errorf("live: guest stopped at %#x, not at the instant %#x (%v)", pc, instant, err)
	}
	span := snapshot.Range{Base: rep.Layout.Captured[0].Base}
	span.Size = rep.Layout.Captured[len(rep.Layout.Captured)-1].End() - span.Base
	refPath := filepath.Join(dir, "reference.bin")
	q, err := vm.QMP()
	if err != nil {
		return nil, err
	}
	if err := q.Pmemsave(span.Base, span.Size, refPath); err != nil {
		return nil, err
	}
	if err := g.ClearBreakpoint(gdb.Hardware, instant, 1); err != nil {
		return nil, err
	}
	if err := g.Continue(); err != nil {
		return nil, err
	}
	cm, err := vm.Console.Expect(completeRE, o.Timeout)
	if err != nil {
		return nil, err
	}
	rep.Complete = cm.Line
	imgPath := filepath.Join(dir, "storage.bin")
	if err := vm.Stopped(func(*gdb.Client) error {
		return q.Pmemsave(rep.Layout.Storage.Base, rep.Layout.Storage.Size, imgPath)
	}); err != nil {
		return nil, err
	}
	rep.Verify, err = compare(refPath, span.Base, imgPath, o.Kernel, rep.Layout)
	if err != nil {
		return rep, err
	}
	if !rep.Verify.OK() {
		return rep, fmt.Errorf("live: snapshot does not match the reference: %w", rep.Verify.Err())
	}
	return rep, nil
}
