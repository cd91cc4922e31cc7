// Package ioapic drives an Intel I/O APIC (82093AA I/O Advanced
// Programmable Interrupt Controller datasheet, 3.2 "Register Description"):
// it routes a global system interrupt (GSI) to a vector of the bootstrap
// processor's local APIC, for GOOS=tamago kernels. The board owns the
// instances (Base, GSIBase); the routing is done once, before the device
// may interrupt, and never from interrupt context.
package ioapic

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Direct registers (datasheet 3.1): an index, then a window onto the
// indexed register.
const (
	IOREGSEL = 0x00
	IOWIN    = 0x10
)

// Indirect registers (datasheet 3.2).
const (
	IOAPICVER = 0x01
	// IOREDTBL is the first redirection table entry: entry n is the
	// register pair IOREDTBL+2n (bits 31:0) and IOREDTBL+2n+1 (63:32).
	IOREDTBL = 0x10
)

// IOAPICVER fields (datasheet 3.2.2).
const (
	// VER_MAX_REDIR_SHIFT: bits 23:16, the highest entry index.
	VER_MAX_REDIR_SHIFT = 16
)

// Redirection table entry fields (datasheet 3.2.4), low word.
const (
	REDTBL_VECTOR_MASK   = 0xff
	REDTBL_DELMOD_FIXED  = 0 << 8
	REDTBL_DESTMOD_PHYS  = 0 << 11
	REDTBL_POLARITY_LOW  = 1 << 13
	REDTBL_TRIGGER_LEVEL = 1 << 15
	REDTBL_MASKED        = 1 << 16
	// REDTBL_DEST_SHIFT: the destination APIC ID, bits 63:56 (bits 31:24
	// of the high word).
	REDTBL_DEST_SHIFT = 24
)

// IOAPIC is one I/O APIC, memory-mapped at Base, whose input pins are the
// GSIs from GSIBase.
type IOAPIC struct {
	// Base is the register block's physical address (identity mapped).
	Base uint64
	// GSIBase is the GSI of input pin 0.
	GSIBase int
}

func (a *IOAPIC) reg(off uint64) *uint32 {
	var p unsafe.Pointer
	return (*uint32)(unsafe.Add(p, uintptr(a.Base+off)))
}

func (a *IOAPIC) read(index uint32) uint32 {
	atomic.StoreUint32(a.reg(IOREGSEL), index)
	return atomic.LoadUint32(a.reg(IOWIN))
}

func (a *IOAPIC) write(index, v uint32) {
	atomic.StoreUint32(a.reg(IOREGSEL), index)
	atomic.StoreUint32(a.reg(IOWIN), v)
}

// Entries returns the number of input pins (redirection table entries).
func (a *IOAPIC) Entries() int {
	return int(a.read(IOAPICVER)>>VER_MAX_REDIR_SHIFT&0xff) + 1
}

// pin returns gsi's input pin, or an error if this I/O APIC has none.
func (a *IOAPIC) pin(gsi int) (uint32, error) {
	n := gsi - a.GSIBase
	if n < 0 || n >= a.Entries() {
		return 0, fmt.Errorf("ioapic: GSI %d is not on the I/O APIC at %#x (GSIs %d-%d)", gsi, a.Base, a.GSIBase, a.GSIBase+a.Entries()-1)
	}
	return uint32(n), nil
}

// Route delivers gsi to vector on the processor with local APIC ID 0
// (fixed delivery, physical destination, active high), level-triggered if
// level, and unmasks it.
func (a *IOAPIC) Route(gsi int, vector uint8, level bool) error {
	n, err := a.pin(gsi)
	if err != nil {
		return err
	}
	lo := uint32(vector) | REDTBL_DELMOD_FIXED | REDTBL_DESTMOD_PHYS
	if level {
		lo |= REDTBL_TRIGGER_LEVEL
	}
	// Masked while the entry changes, then the destination, then the
	// unmasked low word.
	a.write(IOREDTBL+2*n, REDTBL_MASKED)
	a.write(IOREDTBL+2*n+1, 0<<REDTBL_DEST_SHIFT)
	a.write(IOREDTBL+2*n, lo)
	return nil
}

// Mask masks gsi.
func (a *IOAPIC) Mask(gsi int) error {
	n, err := a.pin(gsi)
	if err != nil {
		return err
	}
	a.write(IOREDTBL+2*n, REDTBL_MASKED)
	return nil
}
