//go:build tamago && arm64

package virt

import (
	"errors"
	"fmt"

	"github.com/pagesnap/pagesnap/irq/gicv3"
)

// The interrupt controller: a GICv2 (gic.go, QEMU virt's default) or a
// GICv3 (package irq/gicv3, gic-version=3), as the device tree's
// interrupt controller node says (GICNode).
const (
	// GICR_BASE is virt's GICv3 redistributor region
	// (hw/arm/virt.c VIRT_GIC_REDIST): cpuinit uses it at EL3, before
	// the device tree is read.
	GICR_BASE = 0x080a0000
)

// gic is the controller initGIC found (scalars only: the interrupt path
// reads it).
var gic struct {
	version int
	dist    uint64 // distributor
	cpu     uint64 // GICv2 CPU interface
	v3      gicv3.GIC
}

// initGIC reads the interrupt controller from the device tree and sets it
// up for this processor, once (a later StartTick keeps the enabled
// interrupts).
func initGIC() error {
	if gic.version != 0 {
		return nil
	}
	n, err := InterruptController()
	if err != nil {
		return err
	}
	gic.dist, gic.cpu = n.Dist.Start, n.CPU.Start
	switch n.Version {
	case 3:
		if err := gic.v3.Init(n.Dist.Start, n.CPU.Start, n.CPU.Size); err != nil {
			return err
		}
	default:
		gic2Init()
	}
	gic.version = n.Version
	return nil
}

// InterruptController returns the interrupt controller the device tree
// describes (the one StartTick sets up).
func InterruptController() (GICNode, error) {
	f, err := deviceTree()
	if err != nil {
		return GICNode{}, err
	}
	n, ferr := f.gic()
	if ferr != fdtOK {
		return n, errors.New("virt: " + ferr.String())
	}
	return n, nil
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
		return fmt.Errorf("virt: GICv3 interrupt %d stays disabled: it is Secure (the firmware must put it in Non-secure Group 1)", id)
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
