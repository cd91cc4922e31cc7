//go:build !tamago

package virt

import (
	"slices"
	"testing"
)

// virtioTree is a tree with one-cell addresses and sizes, a GIC (phandle
// 1, #interrupt-cells 3) with a child, a second controller (phandle 2,
// #interrupt-cells 2), and the nodes node adds under the root.
func virtioTree(node func(b *fdtBuilder)) []byte {
	b := &fdtBuilder{}
	b.begin("")
	b.prop("#address-cells", 1)
	b.prop("#size-cells", 1)
	b.prop("interrupt-parent", 1)
	b.begin("intc@8000000")
	b.prop("#interrupt-cells", 3)
	b.prop("phandle", 1)
	b.begin("v2m@8020000")
	b.prop("phandle", 3)
	b.end()
	b.end()
	b.begin("gpio@9030000")
	b.prop("phandle", 2)
	b.prop("#interrupt-cells", 2)
	b.end()
	node(b)
	b.end()
	b.u32(FDT_END)
	return b.blob()
}

func transportsOf(t *testing.T, blob []byte) ([]VirtioMMIO, fdtError) {
	t.Helper()
	f, err := parse(blob)
	if err != fdtOK {
		t.Fatal(err)
	}
	var ts [MaxVirtioMMIO]VirtioMMIO
	n, err := f.virtioMMIO(&ts)
	return ts[:n], err
}

func TestVirtioMMIO(t *testing.T) {
	ts, err := transportsOf(t, virtioTree(func(b *fdtBuilder) {
		b.begin("virtio_mmio@a000000")
		b.prop("interrupts", GIC_SPI, 16, 1)
		b.prop("reg", 0xa000000, 0x200)
		b.propBytes("compatible", []byte("virtio,mmio\x00"))
		b.end()
		b.begin("pl011@9000000") // not virtio
		b.prop("interrupts", GIC_SPI, 1, 4)
		b.prop("reg", 0x9000000, 0x1000)
		b.propBytes("compatible", []byte("arm,pl011\x00arm,primecell\x00"))
		b.end()
		b.begin("transport@b000000") // second in its compatible list
		b.propBytes("compatible", []byte("vendor,transport\x00virtio,mmio\x00"))
		b.prop("reg", 0xb000000, 0x1000, 0xc000000, 0x1000)
		b.prop("interrupt-parent", 1)
		b.prop("interrupts", GIC_SPI, 40, 4, GIC_SPI, 41, 4)
		b.begin("child") // a child's properties are not the node's
		b.prop("reg", 0, 0)
		b.prop("interrupts", 1, 2, 3)
		b.end()
		b.end()
		b.begin("soc")
		b.begin("virtio_mmio@d000000") // not a child of the root
		b.propBytes("compatible", []byte("virtio,mmio\x00"))
		b.end()
		b.end()
	}))
	want := []VirtioMMIO{{0xa000000, 0x200, 16}, {0xb000000, 0x1000, 40}}
	if err != fdtOK || !slices.Equal(ts, want) {
		t.Errorf("transports %x, %q; want %x", ts, err, want)
	}

	for _, tc := range []struct {
		name string
		node func(b *fdtBuilder)
		want fdtError
	}{
		{"PPI", func(b *fdtBuilder) {
			b.begin("virtio_mmio@a000000")
			b.propBytes("compatible", []byte("virtio,mmio\x00"))
			b.prop("reg", 0xa000000, 0x200)
			b.prop("interrupts", 1, 16, 1)
			b.end()
		}, fdtErrInterrupt},
		{"two-cell interrupt parent", func(b *fdtBuilder) {
			b.begin("virtio_mmio@a000000")
			b.propBytes("compatible", []byte("virtio,mmio\x00"))
			b.prop("reg", 0xa000000, 0x200)
			b.prop("interrupt-parent", 2)
			b.prop("interrupts", 0, 16)
			b.end()
		}, fdtErrInterrupt},
		{"interrupt parent without #interrupt-cells", func(b *fdtBuilder) {
			b.begin("virtio_mmio@a000000")
			b.propBytes("compatible", []byte("virtio,mmio\x00"))
			b.prop("reg", 0xa000000, 0x200)
			b.prop("interrupt-parent", 3)
			b.prop("interrupts", 0, 16, 1)
			b.end()
		}, fdtErrInterrupt},
		{"no such interrupt parent", func(b *fdtBuilder) {
			b.begin("virtio_mmio@a000000")
			b.propBytes("compatible", []byte("virtio,mmio\x00"))
			b.prop("reg", 0xa000000, 0x200)
			b.prop("interrupt-parent", 9)
			b.prop("interrupts", 0, 16, 1)
			b.end()
		}, fdtErrInterrupt},
		{"no interrupts", func(b *fdtBuilder) {
			b.begin("virtio_mmio@a000000")
			b.propBytes("compatible", []byte("virtio,mmio\x00"))
			b.prop("reg", 0xa000000, 0x200)
			b.end()
		}, fdtErrInterrupt},
		{"reg without a size", func(b *fdtBuilder) {
			b.begin("virtio_mmio@a000000")
			b.propBytes("compatible", []byte("virtio,mmio\x00"))
			b.prop("reg", 0xa000000)
			b.prop("interrupts", 0, 16, 1)
			b.end()
		}, fdtErrStructure},
	} {
		if ts, err := transportsOf(t, virtioTree(tc.node)); err != tc.want || len(ts) != 0 {
			t.Errorf("%s: transports %x, %q; want none, %q", tc.name, ts, err, tc.want)
		}
	}
}
