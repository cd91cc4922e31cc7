package virt

// This file has no build constraint: host tests run the reader on QEMU's
// device trees (TestFDTQEMUDevices holds it against u-root's pkg/dt).

// VirtioMMIO is one virtio-mmio transport the device tree describes: a
// root child node whose compatible list holds "virtio,mmio" (Linux
// binding Documentation/devicetree/bindings/virtio/mmio.yaml). QEMU virt
// lists 32 of them, /virtio_mmio@a000000 to @a003e00, in address order.
type VirtioMMIO struct {
	// Base is the register block's physical address (reg).
	Base uint64
	// Size is the register block's length (reg).
	Size uint64
	// SPI is the shared peripheral interrupt the transport signals
	// (interrupts, GIC binding: <GIC_SPI SPI flags>); its interrupt ID
	// is GIC_SPI_BASE+SPI (EnableSPI takes SPI).
	SPI uint32
}

// MaxVirtioMMIO is how many transports the reader keeps.
const MaxVirtioMMIO = 64

// Interrupt specifier of the Arm GIC bindings
// (Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml and
// arm,gic-v3.yaml): #interrupt-cells is at least 3; cell 0 is the type,
// cell 1 the number within the type, cell 2 the trigger flags.
const (
	// GIC_SPI is cell 0 of a shared peripheral interrupt.
	GIC_SPI = 0
	// gicMinInterruptCells is the smallest #interrupt-cells of a GIC.
	gicMinInterruptCells = 3
)

// virtioMMIO reads the transports of the root's virtio,mmio children into
// out, in device tree order: reg decoded with the root's #address-cells
// and #size-cells (first region only), interrupts with the
// #interrupt-cells of the node's interrupt parent (its own
// interrupt-parent or the root's; Devicetree Specification v0.4, 2.4.1),
// which must be a GIC and the interrupt an SPI.
//
//go:nosplit
func (f *fdt) virtioMMIO(out *[MaxVirtioMMIO]VirtioMMIO) (n int, err fdtError) {
	addrCells, sizeCells := uint32(2), uint32(1)
	var rootParent uint32
	var node struct {
		in                    bool
		compatible, reg, intr []byte
		parent                uint32
	}
	off, depth := 0, 0
	for {
		t, err := f.next(&off, &depth)
		if err != fdtOK {
			return n, err
		}
		switch t.kind {
		case FDT_END:
			return n, fdtOK
		case FDT_BEGIN_NODE:
			if t.depth == 2 {
				node.in, node.compatible, node.reg, node.intr, node.parent = true, nil, nil, nil, rootParent
			}
		case FDT_END_NODE:
			if t.depth == 1 {
				return n, fdtOK
			}
			if t.depth != 2 || !hasString(node.compatible, "virtio,mmio") {
				continue
			}
			node.in = false
			if n == len(out) {
				continue
			}
			var tr VirtioMMIO
			var ok bool
			v := node.reg
			if tr.Base, v, ok = cells(v, addrCells); !ok {
				return n, fdtErrStructure
			}
			if tr.Size, _, ok = cells(v, sizeCells); !ok {
				return n, fdtErrStructure
			}
			icells, found := f.interruptCells(node.parent)
			if !found || icells < gicMinInterruptCells || len(node.intr) < int(4*icells) ||
				be32(node.intr) != GIC_SPI {
				return n, fdtErrInterrupt
			}
			tr.SPI = be32(node.intr[4:])
			out[n] = tr
			n++
		case FDT_PROP:
			switch {
			case t.depth == 1 && equal(t.name, "#address-cells") && len(t.value) == 4:
				addrCells = be32(t.value)
			case t.depth == 1 && equal(t.name, "#size-cells") && len(t.value) == 4:
				sizeCells = be32(t.value)
			case t.depth == 1 && equal(t.name, "interrupt-parent") && len(t.value) == 4:
				rootParent = be32(t.value)
			case t.depth == 2 && node.in && equal(t.name, "compatible"):
				node.compatible = t.value
			case t.depth == 2 && node.in && equal(t.name, "reg"):
				node.reg = t.value
			case t.depth == 2 && node.in && equal(t.name, "interrupts"):
				node.intr = t.value
			case t.depth == 2 && node.in && equal(t.name, "interrupt-parent") && len(t.value) == 4:
				node.parent = be32(t.value)
			}
		}
	}
}

// interruptCells returns the #interrupt-cells of the node whose phandle
// is ph (2.3.3 phandle, 2.4.2.1 #interrupt-cells), at any depth. A node's
// properties precede its children (5.4.1), so they are complete at the
// next FDT_BEGIN_NODE or FDT_END_NODE token.
//
//go:nosplit
func (f *fdt) interruptCells(ph uint32) (icells uint32, found bool) {
	if ph == 0 {
		return 0, false
	}
	var cur struct{ phandle, icells uint32 }
	off, depth := 0, 0
	for {
		t, err := f.next(&off, &depth)
		if err != fdtOK || t.kind == FDT_END {
			return 0, false
		}
		switch t.kind {
		case FDT_BEGIN_NODE, FDT_END_NODE:
			if cur.phandle == ph {
				return cur.icells, true
			}
			cur.phandle, cur.icells = 0, 0
		case FDT_PROP:
			switch {
			case equal(t.name, "phandle") && len(t.value) == 4:
				cur.phandle = be32(t.value)
			case equal(t.name, "#interrupt-cells") && len(t.value) == 4:
				cur.icells = be32(t.value)
			}
		}
	}
}

// hasString reports whether the string list v (NUL-terminated strings,
// 2.2.4 <stringlist>) holds s.
//
//go:nosplit
func hasString(v []byte, s string) bool {
	for len(v) > 0 {
		w := cstring(v)
		if equal(w, s) {
			return true
		}
		if len(w) == len(v) {
			return false
		}
		v = v[len(w)+1:]
	}
	return false
}
