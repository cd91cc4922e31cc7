package virt

// This file has no build constraint: host tests read QEMU's device trees.

// GICNode is the interrupt controller the device tree describes: the
// root's child whose compatible list names an Arm GIC (Linux bindings
// Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml and
// arm,gic-v3.yaml). QEMU virt lists /intc@8000000: arm,cortex-a15-gic
// (GICv2, the default) or arm,gic-v3 (gic-version=3).
type GICNode struct {
	// Version is 2 or 3.
	Version int
	// Dist is the distributor's register block (reg, first region).
	Dist Range
	// CPU is the second reg region: the CPU interface (GICv2) or the
	// redistributor region (GICv3).
	CPU Range
}

// gicV2Compatible are the GICv2 compatible strings QEMU and common boards
// use; gicV3Compatible the GICv3 one.
var gicV2Compatible = [...]string{"arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic"}

const gicV3Compatible = "arm,gic-v3"

// gic reads the first GIC node among the root's children, its reg decoded
// with the root's #address-cells and #size-cells.
//
//go:nosplit
func (f *fdt) gic() (g GICNode, err fdtError) {
	addrCells, sizeCells := uint32(2), uint32(1)
	var compatible, reg []byte
	off, depth := 0, 0
	for {
		t, err := f.next(&off, &depth)
		if err != fdtOK {
			return g, err
		}
		switch t.kind {
		case FDT_END:
			return g, fdtErrNoGIC
		case FDT_BEGIN_NODE:
			if t.depth == 2 {
				compatible, reg = nil, nil
			}
		case FDT_END_NODE:
			if t.depth == 1 {
				return g, fdtErrNoGIC
			}
			if t.depth != 2 {
				continue
			}
			g.Version = 0
			if hasString(compatible, gicV3Compatible) {
				g.Version = 3
			}
			for _, c := range gicV2Compatible {
				if hasString(compatible, c) {
					g.Version = 2
				}
			}
			if g.Version == 0 {
				continue
			}
			v := reg
			var ok bool
			if g.Dist.Start, v, ok = cells(v, addrCells); !ok {
				return g, fdtErrStructure
			}
			if g.Dist.Size, v, ok = cells(v, sizeCells); !ok {
				return g, fdtErrStructure
			}
			if g.CPU.Start, v, ok = cells(v, addrCells); !ok {
				return g, fdtErrStructure
			}
			if g.CPU.Size, _, ok = cells(v, sizeCells); !ok {
				return g, fdtErrStructure
			}
			return g, fdtOK
		case FDT_PROP:
			switch {
			case t.depth == 1 && equal(t.name, "#address-cells") && len(t.value) == 4:
				addrCells = be32(t.value)
			case t.depth == 1 && equal(t.name, "#size-cells") && len(t.value) == 4:
				sizeCells = be32(t.value)
			case t.depth == 2 && equal(t.name, "compatible"):
				compatible = t.value
			case t.depth == 2 && equal(t.name, "reg"):
				reg = t.value
			}
		}
	}
}
