//go:build tamago && arm64

package aarch64

import (
	"errors"
	"fmt"

	"github.com/pagesnap/pagesnap/irq/gicv3"
)

// The interrupt controller: a GICv2 (gic.go, QEMU virt's default) or a
// GICv3 (package irq/gicv3: QEMU virt with gic-version=3, the i.MX 8M
// Plus), as the board says (InterruptController).

// GIC is a board's interrupt controller.
type GIC struct {
	// Version is 2 or 3.
	Version int
	// Dist is the distributor's base.
	Dist uint64
	// CPU is the GICv2 CPU interface's base, or the GICv3
	// redistributors' region, CPUSize bytes.
	CPU, CPUSize uint64
}

// InterruptController returns the board's interrupt controller: set by
// the board (virt reads its device tree) before StartTick.
var InterruptController func() (GIC, error)

// gic is the controller initGIC found (scalars only: the interrupt path
// reads it).
var gic struct {
	version int
	dist    uint64 // distributor
	cpu     uint64 // GICv2 CPU interface
	v3      gicv3.GIC
}

// initGIC takes the board's interrupt controller and sets it up for this
// processor, once (a later StartTick keeps the enabled interrupts).
func initGIC() error {
	if gic.version != 0 {
		return nil
	}
	if InterruptController == nil {
		return errors.New("aarch64: the board names no interrupt controller")
	}
	n, err := InterruptController()
	if err != nil {
		return err
	}
	gic.dist, gic.cpu = n.Dist, n.CPU
	switch n.Version {
	case 3:
		if err := gic.v3.Init(n.Dist, n.CPU, n.CPUSize); err != nil {
			return err
		}
	case 2:
		gic2Init()
	default:
		return fmt.Errorf("aarch64: GIC version %d is not supported", n.Version)
	}
	gic.version = n.Version
	return nil
}

// gicEnable enables interrupt id (a PPI or SPI) at priority prio.
//
//go:nosplit
func gicEnable(id uint32, prio uint8) {
	if gic.version == 3 {
		gic.v3.Enable(id, prio)
	} else {
		gic2Enable(id, prio)
	}
}

// gicCheckEnabled fails if interrupt id did not become enabled: a GICv3
// with two Security states whose Secure side left it Secure.
func gicCheckEnabled(id uint32) error {
	if gic.version == 3 && !gic.v3.Enabled(id) {
		return fmt.Errorf("aarch64: GICv3 interrupt %d stays disabled: it is Secure (the firmware must put it in Non-secure Group 1)", id)
	}
	return nil
}

// gicDisable disables interrupt id.
//
//go:nosplit
func gicDisable(id uint32) {
	if gic.version == 3 {
		gic.v3.Disable(id)
	} else {
		gic2Disable(id)
	}
}

// gicAck acknowledges the highest-priority pending interrupt: the value
// to pass to gicEOI, whose bits 9:0 are the interrupt ID (GIC_ID_SPURIOUS
// if none; no LPI is enabled, so a GICv3 INTID fits them too).
//
//go:nosplit
func gicAck() uint32 {
	if gic.version == 3 {
		return gicv3.Ack()
	}
	return gic2Ack()
}

// gicEOI ends the interrupt acknowledged with iar.
//
//go:nosplit
func gicEOI(iar uint32) {
	if gic.version == 3 {
		gicv3.EOI(iar)
	} else {
		gic2EOI(iar)
	}
}
