package live

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/qemu"
)

// RepeatShot is one snapshot of Repeat: its started and complete lines.
type RepeatShot struct {
	Started  lines.Started
	Complete lines.Complete
}

// Repeat boots the kernel, starts the never-blocking workload and takes n
// snapshots in a row (snap start overwrite as soon as the previous one is
// complete), with no reference and no debugger stop: it measures what
// repeated snapshots do to the machine — the table pool after each one
// (split tables joined back, mmu.Tables.Merge), the pause and the entries
// touched — not the images (TestBackToBack verifies those bit for bit).
// It stops at the first snapshot that fails to start or complete.
func Repeat(ctx context.Context, o Options, n int) (shots []RepeatShot, err error) {
	if o.Timeout == 0 {
		o.Timeout = 240 * time.Minute
	}
	if o.DMA == "" {
		o.DMA = "inuse"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	t, err := resolveTarget(o.Kernel, o.Arch, o.RAM)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	vm, g, err := startVM(ctx, t, o.Kernel, o.Log, rngDevices(false), func(c *qemu.Config) { c.ICount = o.ICount })
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	g.Continue()
	if _, err := waitReady(vm); err != nil {
		return nil, err
	}
	if err := vm.Send(workStart(o.Workload)); err != nil {
		return nil, err
	}
	if _, err := vm.Console.Expect(workRE, time.Minute); err != nil {
		return nil, err
	}
	for i := range n {
		if err := vm.Send(snapStart(o.DMA, o.Share, i > 0)); err != nil {
			return shots, err
		}
		line, err := expectStarted(vm)
		if err != nil {
			return shots, fmt.Errorf("snapshot %d: %w", i+1, err)
		}
		var sh RepeatShot
		if sh.Started, err = lines.ParseStarted(line); err != nil {
			return shots, err
		}
		cm, err := vm.Console.Expect(completeRE, o.Timeout)
		if err != nil {
			return shots, fmt.Errorf("snapshot %d: %w", i+1, err)
		}
		if sh.Complete, err = lines.ParseComplete(cm.Line[max(0, strings.Index(cm.Line, lines.CompletePrefix)):]); err != nil {
			return shots, err
		}
		shots = append(shots, sh)
		fmt.Fprintf(o.Log, "repeat: snapshot %d/%d: pause %.0f us, %d entries, pool used %d, %d tables merged, pool after %d\n",
			i+1, n, sh.Started.PauseMicros, sh.Started.EntriesTouched, sh.Complete.PoolUsed, sh.Complete.TablesMerged, sh.Complete.PoolAfter)
	}
	vm.Send("exit 0")
	vm.Wait(time.Minute)
	return shots, nil
}
