//go:build tamago && amd64

package pagesnap

import (
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/lapic"
)

// Platform holds the board's devices pagesnap drives itself on amd64.
type Platform struct {
	// LAPIC is the local APIC whose timer runs the periodic tick (e.g.
	// microvm.LAPIC). Required: Open fails without it.
	LAPIC *lapic.LAPIC
}

func (p Platform) install() {
	if p.LAPIC != nil {
		kernel.LAPIC = p.LAPIC
	}
}
