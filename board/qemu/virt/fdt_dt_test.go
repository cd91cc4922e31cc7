//go:build !tamago

package virt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/u-root/u-root/pkg/dt"
)

// The early reader held against a second parser, u-root's pkg/dt, on the
// device trees QEMU's virt machine passes to the kernels the QEMU tests
// boot.

// dtView is what the board reads from a device tree.
type dtView struct {
	banks      []Range
	cpus       int
	transports []VirtioMMIO
}

// earlyView reads blob with the board's allocation-free reader.
func earlyView(t *testing.T, blob []byte) dtView {
	t.Helper()
	f, err := parse(blob)
	if err != fdtOK {
		t.Fatalf("parseFDT: %q", err)
	}
	var v dtView
	var banks [maxBanks]Range
	n, err := f.memoryBanks(&banks)
	if err != fdtOK {
		t.Fatalf("memoryBanks: %q", err)
	}
	v.banks = banks[:n]
	if v.cpus, err = f.cpuCount(); err != fdtOK {
		t.Fatalf("cpuCount: %q", err)
	}
	var ts [MaxVirtioMMIO]VirtioMMIO
	if n, err = f.virtioMMIO(&ts); err != fdtOK {
		t.Fatalf("virtioMMIO: %q", err)
	}
	v.transports = ts[:n]
	return v
}

// dtCells decodes a value of n cells.
func dtCells(b []byte, n uint32) (uint64, []byte, error) {
	if n < 1 || n > 2 || len(b) < int(4*n) {
		return 0, b, fmt.Errorf("%d bytes left for %d cells", len(b), n)
	}
	var v uint64
	for i := range n {
		v = v<<32 | uint64(binary.BigEndian.Uint32(b[4*i:]))
	}
	return v, b[4*n:], nil
}

func dtU32(n *dt.Node, name string, def uint32) (uint32, error) {
	p, ok := n.LookProperty(name)
	if !ok {
		return def, nil
	}
	return p.AsU32()
}

// dtStrings splits a <stringlist> (2.2.4). pkg/dt v0.16.0's
// Property.AsStringList panics on every non-empty list (slice bounds out of
// range [:-1] past the last string).
func dtStrings(n *dt.Node, name string) []string {
	p, ok := n.LookProperty(name)
	if !ok || len(p.Value) == 0 {
		return nil
	}
	return toStrings(bytes.Split(bytes.TrimSuffix(p.Value, []byte{0}), []byte{0}))
}

func toStrings(b [][]byte) []string {
	var s []string
	for _, w := range b {
		s = append(s, string(w))
	}
	return s
}

// dtViewOf reads blob with pkg/dt, going by the specification's
// device_type and compatible properties rather than node names: memory
// banks are the reg regions of root children with device_type "memory"
// (3.4), CPUs the children of /cpus with device_type "cpu" and an
// available status (3.8, 2.3.4), transports the root children compatible
// with "virtio,mmio" with their first reg region and first interrupt
// specifier, sized by the interrupt parent's #interrupt-cells.
func dtViewOf(blob []byte) (dtView, error) {
	var v dtView
	tree, err := dt.ReadFDT(bytes.NewReader(blob))
	if err != nil {
		return v, err
	}
	root := tree.RootNode
	addrCells, err := dtU32(root, "#address-cells", 2)
	if err != nil {
		return v, err
	}
	sizeCells, err := dtU32(root, "#size-cells", 1)
	if err != nil {
		return v, err
	}
	rootParent, err := dtU32(root, "interrupt-parent", 0)
	if err != nil {
		return v, err
	}
	reg := func(n *dt.Node) (start, size uint64, rest []byte, err error) {
		p, ok := n.LookProperty("reg")
		if !ok {
			return 0, 0, nil, fmt.Errorf("%s: no reg", n.Name)
		}
		if start, rest, err = dtCells(p.Value, addrCells); err != nil {
			return
		}
		size, rest, err = dtCells(rest, sizeCells)
		return
	}
	for _, n := range root.Children {
		if slices.Contains(dtStrings(n, "device_type"), "memory") {
			p, _ := n.LookProperty("reg")
			for rest := p.Value; len(rest) > 0; {
				var start, size uint64
				if start, rest, err = dtCells(rest, addrCells); err != nil {
					return v, err
				}
				if size, rest, err = dtCells(rest, sizeCells); err != nil {
					return v, err
				}
				if size > 0 {
					v.banks = append(v.banks, Range{start, size})
				}
			}
		}
		if n.Name == "cpus" {
			for _, c := range n.Children {
				st := dtStrings(c, "status")
				if slices.Contains(dtStrings(c, "device_type"), "cpu") &&
					(st == nil || st[0] == "okay" || st[0] == "ok") {
					v.cpus++
				}
			}
		}
		if !slices.Contains(dtStrings(n, "compatible"), "virtio,mmio") {
			continue
		}
		base, size, _, err := reg(n)
		if err != nil {
			return v, err
		}
		parent, err := dtU32(n, "interrupt-parent", rootParent)
		if err != nil {
			return v, err
		}
		ic, found := root.Find(func(c *dt.Node) bool {
			ph, err := dtU32(c, "phandle", 0)
			return err == nil && ph == parent && ph != 0
		})
		if !found {
			return v, fmt.Errorf("%s: no interrupt parent %#x", n.Name, parent)
		}
		icells, err := dtU32(ic, "#interrupt-cells", 0)
		if err != nil {
			return v, err
		}
		p, ok := n.LookProperty("interrupts")
		if !ok || icells < 3 || len(p.Value) < int(4*icells) {
			return v, fmt.Errorf("%s: interrupts %x with %d cells", n.Name, p.Value, icells)
		}
		if typ := binary.BigEndian.Uint32(p.Value); typ != GIC_SPI {
			return v, fmt.Errorf("%s: interrupt type %d is not SPI", n.Name, typ)
		}
		v.transports = append(v.transports, VirtioMMIO{Base: base, Size: size, SPI: binary.BigEndian.Uint32(p.Value[4:])})
	}
	return v, nil
}

// dumpDTB returns the device tree QEMU builds for cfg: the command line of
// qemu.Config (as the QEMU tests start it) with -M ...,dumpdtb=.
func dumpDTB(t *testing.T, cfg qemu.Config) []byte {
	t.Helper()
	bin, err := cfg.Arch.Binary()
	if err != nil {
		qemu.Missing(t, "%v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "virt.dtb")
	cfg.MachineOpts = append(slices.Clone(cfg.MachineOpts), "dumpdtb="+path)
	args, err := cfg.Args(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	blob, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

// TestFDTQEMUDevices reads QEMU virt's device trees, as the QEMU tests
// start the machine (qemu.Config for arm64 with the virtio-rng device of
// the snapshot tests), with the early reader and with pkg/dt: memory
// banks, CPU count and virtio-mmio transports (base, size, SPI) must be
// equal, and be QEMU virt's (hw/arm/virt.c: RAM at 0x40000000; VIRT_MMIO
// 32 transports of 0x200 bytes from 0x0a000000 on SPI 16 up).
func TestFDTQEMUDevices(t *testing.T) {
	rng := qemu.Config{
		Arch:      qemu.ARM64,
		MemoryMiB: 640,
		CPU:       "max",
		Devices:   []string{"virtio-rng-device"},
		ExtraArgs: []string{"-global", "virtio-mmio.force-legacy=false"},
	}
	var want []VirtioMMIO
	for n := range uint64(32) {
		want = append(want, VirtioMMIO{Base: 0x0a000000 + n*0x200, Size: 0x200, SPI: 16 + uint32(n)})
	}
	for _, tc := range []struct {
		name string
		cfg  func(c qemu.Config) qemu.Config
		mem  uint64
		cpus int
	}{
		{"640M", func(c qemu.Config) qemu.Config { return c }, 640 << 20, 1},
		{"cortex-a57 smp 2", func(c qemu.Config) qemu.Config { c.CPU, c.SMP = "", 2; return c }, 640 << 20, 2},
		{"gicv3 smp 4 3G", func(c qemu.Config) qemu.Config {
			c.MachineOpts, c.SMP, c.MemoryMiB = []string{"gic-version=3"}, 4, 3072
			return c
		}, 3 << 30, 4},
		{"virtualization on", func(c qemu.Config) qemu.Config {
			c.MachineOpts = []string{"virtualization=on"}
			return c
		}, 640 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blob := dumpDTB(t, tc.cfg(rng))
			got := earlyView(t, blob)
			ref, err := dtViewOf(blob)
			if err != nil {
				t.Fatalf("pkg/dt: %v", err)
			}
			if !slices.Equal(got.banks, ref.banks) || got.cpus != ref.cpus || !slices.Equal(got.transports, ref.transports) {
				t.Errorf("early reader and pkg/dt differ:\nearly  %x, %d CPUs, transports %x\npkg/dt %x, %d CPUs, transports %x",
					got.banks, got.cpus, got.transports, ref.banks, ref.cpus, ref.transports)
			}
			if wantBanks := []Range{{0x40000000, tc.mem}}; !slices.Equal(got.banks, wantBanks) {
				t.Errorf("banks %x, want %x", got.banks, wantBanks)
			}
			if got.cpus != tc.cpus {
				t.Errorf("%d CPUs, want %d", got.cpus, tc.cpus)
			}
			if !slices.Equal(got.transports, want) {
				t.Errorf("transports %x, want %x", got.transports, want)
			}
		})
	}
}

// TestFDTQEMUGIC reads the interrupt controller node of QEMU virt's device
// trees: a GICv2 (arm,cortex-a15-gic) by default, a GICv3 (arm,gic-v3)
// with gic-version=3, secure=on or not, at QEMU virt's addresses
// (hw/arm/virt.c: VIRT_GIC_DIST 0x08000000, VIRT_GIC_CPU 0x08010000,
// VIRT_GIC_REDIST 0x080a0000, which cpuinit uses at EL3 as GICD_BASE and
// GICR_BASE). A tree without one is refused.
func TestFDTQEMUGIC(t *testing.T) {
	base := qemu.Config{Arch: qemu.ARM64, MemoryMiB: 640, CPU: "max"}
	for _, tc := range []struct {
		name string
		opts []string
		want GICNode
	}{
		{"default", nil, GICNode{2, Range{0x08000000, 0x10000}, Range{0x08010000, 0x10000}}},
		{"secure", []string{"secure=on"}, GICNode{2, Range{0x08000000, 0x10000}, Range{0x08010000, 0x10000}}},
		{"gicv3", []string{"gic-version=3"}, GICNode{3, Range{0x08000000, 0x10000}, Range{0x080a0000, 0xf60000}}},
		{"gicv3 secure", []string{"gic-version=3", "secure=on"}, GICNode{3, Range{0x08000000, 0x10000}, Range{0x080a0000, 0xf60000}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.MachineOpts = tc.opts
			f, err := parse(dumpDTB(t, c))
			if err != fdtOK {
				t.Fatalf("parseFDT: %q", err)
			}
			got, err := f.gic()
			if err != fdtOK || got != tc.want {
				t.Errorf("gic() = %+v, %q; want %+v", got, err, tc.want)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		// The early reader's sample tree: memory, no GIC.
		f, err := parse(sample().blob())
		if err != fdtOK {
			t.Fatalf("parseFDT: %q", err)
		}
		if _, err := f.gic(); err != fdtErrNoGIC {
			t.Errorf("gic() on a tree without an interrupt controller: %q, want %q", err, fdtErrNoGIC)
		}
	})
}
