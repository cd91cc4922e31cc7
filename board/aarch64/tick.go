//go:build tamago && arm64

package aarch64

import (
	"runtime"
	"sync/atomic"

	"github.com/pagesnap/pagesnap/irq"
)

// The periodic tick: the generic timer's virtual timer (CNTV, Arm ARM DDI
// 0487, D12 "The Generic Timer in AArch64 state") interrupts through the
// GIC (v2 or v3, intc.go) as PPI 27 every 1/Hz s (its compare value, CNTV_CVAL_EL0, moves a
// period on at each tick; a preemption that found the goroutine at an
// unsafe point is retried by an extra interrupt tens of microseconds
// later). The IRQ is taken on the SP_EL1 stack (the
// board's exceptionStack, or the stack the kernel gives SP_EL1) by the
// vectors (vectors_arm64.s), which save every general-purpose and SIMD
// register; exception dispatches it to tickIRQ.
const (
	// PPI_VTIMER is the virtual timer's interrupt ID: PPI 11 = ID 27
	// (virt's device tree /timer interrupts; on the i.MX 8M Plus the
	// Cortex-A53's virtual timer PPI, Cortex-A53 MPCore TRM, "Generic
	// Interrupt Controller CPU interface", PPI IDs).
	PPI_VTIMER = 27

	// CNTV_CTL_EL0 fields (Arm ARM D19.11, CNTV_CTL_EL0).
	CNTV_CTL_ENABLE  = 1 << 0
	CNTV_CTL_IMASK   = 1 << 1
	CNTV_CTL_ISTATUS = 1 << 2

	// vectorIRQSP0 is the vector entry for IRQs taken from EL1 on
	// SP_EL0: from the runtime's code.
	vectorIRQSP0 = 1
)

// Timer and interrupt-mask registers, in tick_arm64.s.
func write_cntv_cval(v uint64)
func write_cntv_ctl(v uint64)
func unmaskIRQ()

// tickState is the running tick: its period in counter ticks, the next
// periodic compare value and counts. The interrupt handler writes it
// (scalars only).
var tickState struct {
	period    uint64
	next      uint64
	count     uint64
	preempted uint64
	retries   uint64
}

// StartTick starts the periodic timer interrupt at hz interrupts per second
// (irq.DefaultHz if 0) and unmasks IRQs: from now on every tick calls
// irq.Tick, then runtime.TickPreempt, which preempts a goroutine that has
// run for its time slice. It sets irq.Hz. It fails if the device tree
// names no interrupt controller it drives or the GIC cannot be set up.
func StartTick(hz uint32) error {
	if hz == 0 {
		hz = irq.DefaultHz
	}
	if err := initGIC(); err != nil {
		return err
	}
	tickState.period = clock.freq / uint64(hz)
	tickState.next = read_cntvct() + tickState.period
	write_cntv_cval(tickState.next)
	write_cntv_ctl(CNTV_CTL_ENABLE)
	gicEnable(PPI_VTIMER, GIC_PRIORITY_TICK)
	if err := gicCheckEnabled(PPI_VTIMER); err != nil {
		write_cntv_ctl(CNTV_CTL_IMASK)
		return err
	}
	irq.Hz = hz
	unmaskIRQ()
	return nil
}

// StopTick stops the periodic timer interrupt (IRQs stay unmasked: no
// other interrupt is enabled) and sets irq.Hz to 0.
func StopTick() {
	gicDisable(PPI_VTIMER)
	write_cntv_ctl(CNTV_CTL_IMASK)
	irq.Hz = 0
}

// Ticks returns how many timer interrupts have been taken.
func Ticks() uint64 { return tickState.count }

// Preemptions returns how many ticks injected an asynchronous preemption.
func Preemptions() uint64 { return tickState.preempted }

// Retries returns how many extra timer interrupts retried a preemption
// that found the goroutine at an unsafe point.
func Retries() uint64 { return tickState.retries }

// tickIRQ handles an IRQ taken from the runtime's code. It runs on the
// exception stack with IRQs masked: nosplit, no allocation, scalar stores
// only, no locks (the fault-path rules; see exception).
//
//go:nosplit
func tickIRQ(f *ExceptionFrame) {
	iar := gicAck()
	id := iar & GICC_IAR_ID
	if id == GIC_ID_SPURIOUS {
		return
	}
	if id == PPI_VTIMER {
		now := read_cntvct()
		if now >= tickState.next {
			// The periodic tick. The next one a period on, without
			// drift; after a long stall (masked interrupts, a slow
			// host) skip the missed ticks instead of taking them
			// back to back.
			next := tickState.next + tickState.period
			if next <= now {
				next = now + tickState.period
			}
			tickState.next = next
			tickState.count++
			if t := irq.Tick; t != nil {
				t()
			}
		} else {
			// A retry (below): preemption only.
			tickState.retries++
		}
		injected, retry := runtime.TickPreempt(&f.ELR, &f.SP, &f.X[30], &f.X[29], irq.PrepareWrite)
		if injected {
			tickState.preempted++
		}
		deadline := tickState.next
		if retry {
			// Due for preemption but not at a safe point: try again
			// in 20 to 90 us (varied, so that a loop is not caught at
			// the same instruction every time).
			r := now + (20+tickState.retries*37%71)*clock.freq/1_000_000
			deadline = min(deadline, r)
		}
		write_cntv_cval(deadline)
	} else if id == deviceIRQ.Load() {
		// The device interrupt (EnableSPI): its handler acknowledges
		// the device, which lowers the line before the EOI.
		if d := irq.Device; d != nil {
			d()
		}
	}
	gicEOI(iar)
}

// deviceIRQ is the GIC interrupt ID of the device interrupt (0: none).
var deviceIRQ atomic.Uint32

// EnableSPI routes the shared peripheral interrupt spi (a device tree
// interrupts = <0 spi flags> value) to irq.Device: GIC ID 32+spi, enabled
// at the tick's priority. The tick must run (StartTick initializes the
// GIC and unmasks IRQs). One device interrupt at a time. It fails if the
// interrupt did not become enabled (a GICv3 whose Secure side left it
// Secure).
func EnableSPI(spi uint32) error {
	id := GIC_SPI_BASE + spi
	deviceIRQ.Store(id)
	gicEnable(id, GIC_PRIORITY_TICK)
	return gicCheckEnabled(id)
}
