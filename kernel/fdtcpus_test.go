package kernel

import (
	"encoding/binary"
	"testing"
)

// fdtBuilder writes a flattened device tree (structure and strings).
type fdtBuilder struct {
	st, strs []byte
}

func (b *fdtBuilder) u32(v uint32) { b.st = binary.BigEndian.AppendUint32(b.st, v) }
func (b *fdtBuilder) pad() {
	for len(b.st)%4 != 0 {
		b.st = append(b.st, 0)
	}
}
func (b *fdtBuilder) begin(name string) {
	b.u32(FDT_BEGIN_NODE)
	b.st = append(append(b.st, name...), 0)
	b.pad()
}
func (b *fdtBuilder) end() { b.u32(FDT_END_NODE) }
func (b *fdtBuilder) prop(name, val string) {
	b.u32(FDT_PROP)
	b.u32(uint32(len(val)))
	b.u32(uint32(len(b.strs)))
	b.strs = append(append(b.strs, name...), 0)
	b.st = append(b.st, val...)
	b.pad()
}
func (b *fdtBuilder) blob() []byte {
	b.u32(FDT_END)
	h := make([]byte, 40)
	binary.BigEndian.PutUint32(h[0:], FDT_MAGIC)
	binary.BigEndian.PutUint32(h[4:], uint32(40+len(b.st)+len(b.strs)))
	binary.BigEndian.PutUint32(h[8:], 40)
	binary.BigEndian.PutUint32(h[12:], uint32(40+len(b.st)))
	return append(append(h, b.st...), b.strs...)
}

// tree returns a virt-like tree with cpus cpu nodes, the last one disabled
// if disabled is set, and a cpu-map subnode and a node named cpu@ elsewhere
// that must not count.
func tree(cpus int, disabled bool) []byte {
	b := &fdtBuilder{}
	b.begin("")
	b.prop("compatible", "linux,dummy-virt\x00")
	b.begin("cpu@elsewhere")
	b.end()
	b.begin("cpus")
	b.prop("#size-cells", "\x00\x00\x00\x00")
	b.begin("cpu-map")
	b.begin("socket0")
	b.begin("cluster0")
	b.begin("core0")
	b.prop("cpu", "\x00\x00\x80\x01")
	b.end()
	b.end()
	b.end()
	b.end()
	for i := 0; i < cpus; i++ {
		b.begin("cpu@" + string(rune('0'+i)))
		b.prop("device_type", "cpu\x00")
		if disabled && i == cpus-1 {
			b.prop("status", "disabled\x00")
		}
		b.end()
	}
	b.end()
	b.end()
	return b.blob()
}

func TestFDTCPUCount(t *testing.T) {
	for _, tc := range []struct {
		cpus     int
		disabled bool
		want     int
	}{{1, false, 1}, {2, false, 2}, {4, false, 4}, {3, true, 2}} {
		got, err := FDTCPUCount(tree(tc.cpus, tc.disabled))
		if err != nil || got != tc.want {
			t.Errorf("%d cpus (last disabled %v): got %d, %v; want %d", tc.cpus, tc.disabled, got, err, tc.want)
		}
	}
	if _, err := FDTCPUCount([]byte("not a device tree at all, forty bytes long")); err != ErrFDT {
		t.Errorf("garbage: %v, want ErrFDT", err)
	}
	b := tree(2, false)
	if _, err := FDTCPUCount(b[:len(b)-30]); err != ErrFDT {
		t.Errorf("truncated: %v, want ErrFDT", err)
	}
}
