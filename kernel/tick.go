//go:build tamago

package kernel

import (
	"github.com/pagesnap/pagesnap/irq"
	"github.com/pagesnap/pagesnap/snapshot"
)

// gAddr returns the address of the current g (tick_*.s).
//
//go:nosplit
func gAddr() uint64

// gStackguard0 is the offset of stackguard0 in the runtime's g (after
// stack.lo and stack.hi); runOnStack clears and restores it.
const gStackguard0 = 16

// ticker is the controller whose snapshots the timer tick drains. It is set
// by InstallIRQ before the board starts the tick and never changes.
var ticker *Controller

// InstallIRQ makes c the timer interrupt's client: irq.Tick drains c's
// running snapshot for its share of every tick period, and
// irq.PrepareWrite lets the interrupt path write a goroutine stack the
// snapshot has write-protected (copying the page first). Call it once,
// before the board starts the tick.
func (c *Controller) InstallIRQ() {
	ticker = c
	irq.Tick = tick
	irq.PrepareWrite = prepareWrite
}

// prepareWriteFn is (*snapshot.Snapshot).PrepareWrite called through a
// function value: the chain below it is nosplit but deeper than the
// linker's nosplit budget (see handleWriteFault).
var prepareWriteFn = (*snapshot.Snapshot).PrepareWrite

// prepareWrite is irq.PrepareWrite: the interrupt path is about to store
// at addr (the interrupted goroutine's stack). Interrupt context: nosplit,
// no allocation, no write barriers, no locks.
//
//go:nosplit
func prepareWrite(addr uint64) bool {
	s := active.Load()
	return s == nil || prepareWriteFn(s, addr)
}

// tick is irq.Tick: on every timer interrupt, while a snapshot is capturing
// or hashing, it drains for the run's budget (share × tick period) on the
// drain stack in the reserved region. Interrupt context: interrupts off,
// any goroutine (or the scheduler, or the idle hook) interrupted. It is
// nosplit and writes only the run's counters (eager pages) and, through
// runOnStack, switches to a stack outside captured RAM with the
// interrupted g's stackguard0 cleared, so that DrainStep and the code it
// calls (ordinary Go functions with stack checks: sha256, package mmu)
// never run the stack-growth check against a stack they are not on — nor
// act on a preemption request (stackguard0 = stackPreempt) meant for the
// interrupted goroutine. The drain there allocates nothing and takes no
// locks (TestDrainStepAllocates); a tick that interrupts the drain itself
// (the idle hook) finds it busy and returns.
//
//go:nosplit
func tick() {
	c := ticker
	if c == nil {
		return
	}
	r := c.cur.Load()
	if r == nil || r.tickBudget == 0 || !r.capturing() {
		return
	}
	r.ticks++
	// runOnStack writes the interrupted g's stackguard0: the g is in
	// captured memory, so its page is copied and made writable first, as
	// for the preemption frame (a write fault here would nest in the
	// interrupt handler).
	if !prepareWrite(gAddr() + gStackguard0) {
		return
	}
	runOnStack(c.M.DrainStackTop, r.tickFn)
}

// tickBatch is the pages (budget units) of one drain step in the tick:
// a few, so that a step's own cost (the drain's entry, its clock
// readings) is shared, and a tick overruns its budget by little (the
// overrun is paid back: tickDrain). 8: the drain claims and marks up to
// a step's pages of one copy-map word with one CAS each (32 pages a
// word), and a step of 8 pages, hashed, is about 0.2 ms of a 10 ms tick
// on amd64 under TCG.
const tickBatch = 8

// tickDrain drains r for at most r.tickBudget cycles (plus one step),
// tickBatch pages a step. It runs on the drain stack from tick: interrupts off, one
// CPU, a stack outside captured RAM and counters in eager memory, so
// nothing writes captured memory while a step runs and the drain may copy
// each page once, straight to its slot (DrainStepUninterrupted).
//
// A tick that overruns its budget (one long step: to a disk, notifying
// the device is an exit to the hypervisor that took up to 200 ms under
// TCG on a loaded host) pays the overrun back from the next ticks'
// budgets, skipping whole ticks if need be, so that the drain's share of
// the CPU stays the setting over the snapshot.
func (r *run) tickDrain() {
	t0 := cycles()
	if r.tickDebt >= r.tickBudget {
		r.tickDebt -= r.tickBudget
		r.tickSkipped++
		return
	}
	until := t0 + r.tickBudget - r.tickDebt
	r.tickDebt = 0
	var n uint64
	t := t0
	for {
		done, err := r.s.DrainStepUninterrupted(tickBatch)
		if err != nil {
			if err == snapshot.ErrDrainBusy {
				r.tickBusy++
			}
			break
		}
		n++
		t = cycles()
		if done {
			if r.doneCycles == 0 {
				r.doneCycles = t
			}
			break
		}
		if t >= until {
			break
		}
	}
	r.tickSteps += n
	t = cycles()
	r.tickCycles += t - t0
	if t > until {
		r.tickDebt = t - until
	}
}
