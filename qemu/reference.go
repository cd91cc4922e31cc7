package qemu

import (
	"errors"
	"fmt"
	"time"

	"github.com/pagesnap/pagesnap/memrange"
	"github.com/pagesnap/pagesnap/qemu/gdb"
)

// ReferenceAt takes the reference image at the snapshot instant: it stops
// the guest, sets a hardware breakpoint at instant (a virtual address, see
// verify.Owners.Virtual), resumes, calls trigger (for example
// func() error { return vm.Send("snap start") }; nil for none), waits up to
// timeout for the breakpoint, saves all RAM to path with pmemsave, removes
// the breakpoint and resumes. It returns the physical address of the
// image's first byte. Config.GDB must be set.
func (vm *VM) ReferenceAt(instant uint64, trigger func() error, path string, timeout time.Duration) (base uint64, err error) {
	ram := vm.ram()
	if err := vm.ReferenceRangeAt(instant, trigger, ram, path, timeout); err != nil {
		return 0, err
	}
	return ram.Base, nil
}

// ReferenceRangeAt is ReferenceAt saving only the physical range span (the
// image's first byte is span.Base). On every failure after the breakpoint
// is set it removes the breakpoint and resumes the guest.
func (vm *VM) ReferenceRangeAt(instant uint64, trigger func() error, span memrange.Range, path string, timeout time.Duration) error {
	g, err := vm.GDB()
	if err != nil {
		return err
	}
	if _, err := g.Interrupt(); err != nil {
		return vm.deadErr(err)
	}
	if err := g.SetBreakpoint(gdb.Hardware, instant, 1); err != nil {
		return err
	}
	if err := g.Continue(); err != nil {
		return vm.deadErr(err)
	}
	if trigger != nil {
		if err := trigger(); err != nil {
			g.Interrupt()
			g.ClearBreakpoint(gdb.Hardware, instant, 1)
			g.Continue()
			return err
		}
	}
	stop, err := g.Wait(timeout)
	if err != nil {
		if _, ierr := g.Interrupt(); ierr != nil {
			return vm.deadErr(ierr)
		}
		g.ClearBreakpoint(gdb.Hardware, instant, 1)
		g.Continue()
		return fmt.Errorf("%w: instant %#x not reached within %v", ErrTimeout, instant, timeout)
	}
	pc, err := g.PC()
	if err == nil && pc != instant {
		err = fmt.Errorf("qemu: guest stopped at %#x (%s), not at the instant %#x", pc, stop.Raw, instant)
	}
	if err != nil {
		g.ClearBreakpoint(gdb.Hardware, instant, 1)
		g.Continue()
		return err
	}
	if err := vm.saveRange(span, path); err != nil {
		return err
	}
	if err := g.ClearBreakpoint(gdb.Hardware, instant, 1); err != nil {
		return err
	}
	if err := g.Continue(); err != nil {
		return vm.deadErr(err)
	}
	return nil
}

// Stopped runs f with every vCPU stopped through the gdbstub and resumes
// the guest afterwards (the guest must have been running under GDB
// control: started with Config.GDB and resumed with GDB().Continue).
func (vm *VM) Stopped(f func(g *gdb.Client) error) error {
	g, err := vm.GDB()
	if err != nil {
		return err
	}
	if _, err := g.Interrupt(); err != nil {
		return vm.deadErr(err)
	}
	ferr := f(g)
	if err := g.Continue(); err != nil {
		return errors.Join(ferr, vm.deadErr(err))
	}
	return ferr
}

// deadErr prefers "QEMU exited" to the socket error its exit caused.
func (vm *VM) deadErr(err error) error {
	select {
	case <-vm.done:
		return fmt.Errorf("%w (%s): %v", ErrExited, vm.status, err)
	case <-time.After(100 * time.Millisecond):
		return err
	}
}
