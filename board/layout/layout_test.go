package layout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/board/nxp/imx8mpevk"
	"github.com/pagesnap/pagesnap/kernel"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"256M", 256 * MiB}, {"3G", 3 * GiB}, {"2800M", 2800 * MiB}, {"1536k", 1536 << 10}, {"4096", 4096},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %#x, %v; want %#x", tc.in, got, err, tc.want)
		}
		if err == nil && tc.want%MiB == 0 {
			if back, _ := ParseSize(FormatSize(got)); back != got {
				t.Errorf("FormatSize(%#x) = %q does not parse back", got, FormatSize(got))
			}
		}
	}
	for _, bad := range []string{"", "0", "3T", "-1G", "1.5G", "G", "99999999999G"} {
		if _, err := ParseSize(bad); !errors.Is(err, ErrSize) {
			t.Errorf("ParseSize(%q): err %v, want ErrSize", bad, err)
		}
	}
}

// The layouts of today's QEMU sizes: the same figures the kernel prints
// on its layout: line, and guest memory sizes that hold them.
func TestQEMULayouts(t *testing.T) {
	for _, tc := range []struct {
		board, ram string
		captured   string
		dma        string
		reserved   string
		guestMiB   uint64
	}{
		{"qemu-microvm", "256M", "0x1000-0x21000000", "0x20000000-0x21000000", "0x21000000-0x21a00000", 1071},
		{"qemu-microvm", "768M", "0x1000-0x41000000", "0x40000000-0x41000000", "0x41000000-0x41a00000", 2099},
		{"qemu-microvm", "2G", "0x1000-0x91000000", "0x90000000-0x91000000", "0x91000000-0x91a00000", 5411},
		{"qemu-virt", "256M", "0x40000000-0x51000000", "0x50000000-0x51000000", "0x51000000-0x51a00000", 557},
		{"qemu-virt", "3056M", "0x40000000-0x100000000", "0xff000000-0x100000000", "0x100000000-0x100a00000", 6179},
	} {
		t.Run(tc.board+"-"+tc.ram, func(t *testing.T) {
			b, _ := Lookup(tc.board)
			size, err := ParseSize(tc.ram)
			if err != nil {
				t.Fatal(err)
			}
			l, err := b.Plan(size)
			if err != nil {
				t.Fatal(err)
			}
			m := l.Machine
			var caps []string
			for _, r := range m.Captured {
				caps = append(caps, fmt.Sprintf("%#x-%#x", r.Base, r.End()))
			}
			got := []string{strings.Join(caps, ","), fmt.Sprintf("%#x-%#x", l.DMA.Base, l.DMA.End()),
				fmt.Sprintf("%#x-%#x", m.Reserved.Base, m.Reserved.End())}
			want := []string{tc.captured, tc.dma, tc.reserved}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("captured, dma, reserved = %v, want %v", got, want)
			}
			if l.GuestMiB != tc.guestMiB {
				t.Errorf("guest memory %d MiB, want %d", l.GuestMiB, tc.guestMiB)
			}
			checkPlan(t, l)
			// One MiB less guest memory has no room for the storage.
			if m2, err := planFor(b, l, l.GuestMiB-1); err == nil && m2 {
				t.Errorf("%d MiB of guest memory also holds the storage: GuestMiB is not the least", l.GuestMiB-1)
			}
		})
	}
}

func planFor(b Board, l *Layout, mib uint64) (bool, error) {
	m, err := kernelPlan(b.GuestRAM(mib), l.DMA)
	if err != nil {
		return false, err
	}
	return m.HoldsImage(), nil
}

func overlaps(a, b Range) bool { return a.Base < b.End() && b.Base < a.End() }

// checkPlan checks the invariants every board's plan must hold.
func checkPlan(t *testing.T, l *Layout) {
	t.Helper()
	m := l.Machine
	if l.Runtime.End() != l.DMA.Base {
		t.Errorf("runtime %v does not end where the DMA window %v starts", l.Runtime, l.DMA)
	}
	last := m.Captured[len(m.Captured)-1]
	if last.End() != l.DMA.End() || !(last.Base <= l.Runtime.Base) {
		t.Errorf("captured %v does not cover the runtime %v and DMA %v", m.Captured, l.Runtime, l.DMA)
	}
	for _, c := range m.Captured {
		for _, x := range []Range{m.Reserved, m.Storage} {
			if overlaps(c, x) {
				t.Errorf("captured %v overlaps %v", c, x)
			}
		}
	}
	if overlaps(m.Reserved, m.Storage) {
		t.Errorf("reserved %v overlaps storage %v", m.Reserved, m.Storage)
	}
	if m.Storage.Size == 0 || m.Storage.Size != m.StorageNeeded() {
		t.Errorf("storage %v, need %#x", m.Storage, m.StorageNeeded())
	}
	in := false
	for _, r := range l.Board.GuestRAM(l.GuestMiB) {
		in = in || (m.Storage.Base >= r.Base && m.Storage.End() <= r.End())
	}
	if !in {
		t.Errorf("storage %v is not in the guest's RAM %v", m.Storage, l.Board.GuestRAM(l.GuestMiB))
	}
	if l.Board.LowRAMTop != 0 && m.Reserved.End() > l.Board.LowRAMTop {
		t.Errorf("reserved %v is past the low RAM top %#x", m.Reserved, l.Board.LowRAMTop)
	}
}

// Every board's largest size plans, the next size up is refused with the
// reason and the largest size, and sizes off the 2 MiB grain or too small
// are refused. (imx8mpevk: its 6 GiB of DDR must hold the captured RAM,
// the reserved region and the storage, which binds before the 32-bit
// heap's 3056M.)
func TestLimits(t *testing.T) {
	want := map[string]string{
		"qemu-microvm": "2790M", "qemu-virt": "3056M", "tamago-microvm": "2550M", "firecracker": "2550M",
		"cloud-hypervisor": "2550M", "gcp": "2550M", "imx8mpevk": "3038M",
	}
	for _, name := range Names() {
		b := Boards[name]
		max := b.MaxRAM()
		if FormatSize(max) != want[name] {
			t.Errorf("%s: largest RAM %s, want %s", name, FormatSize(max), want[name])
		}
		if _, err := b.Plan(max); err != nil {
			t.Errorf("%s: largest size %s: %v", name, FormatSize(max), err)
		}
		err := b.Check(max + SizeUnit)
		if !errors.Is(err, ErrSize) || !strings.Contains(err.Error(), "the largest size is RAM="+want[name]) {
			t.Errorf("%s: %s: err %v, want the largest size named", name, FormatSize(max+SizeUnit), err)
		}
		for _, bad := range []uint64{MinRAM - SizeUnit, 257 * MiB, 3*GiB + 4096} {
			if err := b.Check(bad); !errors.Is(err, ErrSize) {
				t.Errorf("%s: %#x accepted", name, bad)
			}
		}
	}
	_, err := Boards["qemu-microvm"].Plan(3 * GiB)
	const msg = "RAM size: RAM=3G does not fit qemu-microvm: the runtime's memory 0x10000000-0xd0000000 and the 16 MiB DMA window after it must end by 0xbf600000 (pagesnap's 10 MiB reserved region follows it, in RAM below the 32-bit device hole at 0xc0000000); the largest size is RAM=2790M"
	if err == nil || err.Error() != msg {
		t.Errorf("RAM=3G on microvm: %v\nwant %s", err, msg)
	}
}

// The tamago boards at their default size keep the DMA region where
// tamago's board package declares it (0x50000000, 256 MiB).
func TestTamagoBoardsDefault(t *testing.T) {
	for _, name := range []string{"tamago-microvm", "firecracker", "cloud-hypervisor", "gcp"} {
		b := Boards[name]
		l, err := b.Plan(b.DefaultRAM)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if l.DMA != (Range{Base: 0x50000000, Size: 0x10000000}) || l.Runtime != (Range{Base: 0x10000000, Size: 0x40000000}) {
			t.Errorf("%s: runtime %v dma %v, want tamago's 0x10000000+1G and 0x50000000+256M", name, l.Runtime, l.DMA)
		}
		if !b.TamagoBoard || b.LinkerFlags() != "-T 0x10010000 -R 0x1000" {
			t.Errorf("%s: tamago %v, ldflags %q", name, b.TamagoBoard, b.LinkerFlags())
		}
		checkPlan(t, l)
	}
}

// imx8mpevk (pagesnap's board/nxp/imx8mpevk) at the default 1G and at
// RAM=768M: the runtime's memory from DDR's base (the boot tables there,
// kernels linked at 0x40010000), the 16 MiB DMA window in DDR right after
// it (not the OCRAM at 0x900000, which is below DDR and neither captured
// nor in the window), the captured RAM from DDR's base to the window's
// end, and guest memory within the EVK's 6 GiB. The kernel on the EVK
// plans with the board's whole DDR (imx8mpevk.Board.RAM: 6 GiB from
// 0x40000000): its plan must capture the same RAM and hold the storage.
// tamago's own board (TamagoIMX8MPEVK) has the same runtime and window.
func TestIMX8MPEVKLayout(t *testing.T) {
	b := Boards["imx8mpevk"]
	const ocram = 0x900000
	if b.LinkerFlags() != "-T 0x40010000 -R 0x1000" || b.BuildTags() != "board_imx8mpevk" || b.TamagoBoard ||
		b.Package != "github.com/pagesnap/pagesnap/board/nxp/imx8mpevk" {
		t.Errorf("ldflags %q tags %q tamago %v package %s", b.LinkerFlags(), b.BuildTags(), b.TamagoBoard, b.Package)
	}
	if tb := TamagoIMX8MPEVK; tb.BuildTags() != "linkramsize board_imx8mpevk" || tb.RuntimeStart != b.RuntimeStart || tb.DMASize != b.DMASize {
		t.Errorf("tamago's board: tags %q runtime start %#x DMA %#x", tb.BuildTags(), tb.RuntimeStart, tb.DMASize)
	}
	for _, tc := range []struct {
		ram          uint64
		runtime, dma Range
	}{
		{1 * GiB, Range{Base: 0x40000000, Size: 1 * GiB}, Range{Base: 0x80000000, Size: 16 * MiB}},
		{768 * MiB, Range{Base: 0x40000000, Size: 768 * MiB}, Range{Base: 0x70000000, Size: 16 * MiB}},
	} {
		l, err := b.Plan(tc.ram)
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, l)
		if l.Runtime != tc.runtime || l.DMA != tc.dma {
			t.Errorf("RAM=%s: runtime %v dma %v, want %v %v", FormatSize(tc.ram), l.Runtime, l.DMA, tc.runtime, tc.dma)
		}
		if c := l.Machine.Captured; len(c) != 1 || c[0] != (Range{Base: 0x40000000, Size: tc.dma.End() - 0x40000000}) {
			t.Errorf("RAM=%s: captured %v, want DDR's base to the end of the DMA window %#x", FormatSize(tc.ram), c, tc.dma.End())
		}
		if slices.ContainsFunc(l.Machine.Captured, func(r Range) bool { return r.Contains(ocram) }) || l.DMA.Contains(ocram) {
			t.Errorf("RAM=%s: the OCRAM at %#x is in the captured RAM or the DMA window", FormatSize(tc.ram), ocram)
		}
		if l.GuestMiB > 6*1024 {
			t.Errorf("RAM=%s: %d MiB of guest memory, more than the EVK's 6 GiB", FormatSize(tc.ram), l.GuestMiB)
		}
		m, err := kernel.Plan([]Range{{Base: imx8mpevk.DDR_BASE, Size: imx8mpevk.DDRSize}}, l.DMA)
		if err != nil {
			t.Fatalf("RAM=%s: the kernel's plan on the EVK's DDR: %v", FormatSize(tc.ram), err)
		}
		if !slices.Equal(m.Captured, l.Machine.Captured) || m.Storage.Base != l.Machine.Storage.Base || m.Storage.Size != l.Machine.Storage.Size {
			t.Errorf("RAM=%s: on the EVK's DDR the kernel captures %v, storage from %#x; the layout says %v, %#x",
				FormatSize(tc.ram), m.Captured, m.Storage.Base, l.Machine.Captured, l.Machine.Storage.Base)
		}
	}
}

// The eager set's DMA ranges for every board: blocks in use widened to the
// board's leaf, clipped to the window, merged; the whole window in whole
// mode.
func TestEagerDMA(t *testing.T) {
	for _, name := range Names() {
		b := Boards[name]
		l, err := b.Plan(b.DefaultRAM)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkPlan(t, l)
		d := l.DMA
		inUse := []Range{{Base: d.Base + 0x10, Size: 0x20}, {Base: d.Base + 0x1800, Size: 0x1000}, {Base: d.End() - 0x100, Size: 0x100}}
		got := l.EagerDMA(inUse, false)
		var want []Range
		switch b.DMARoundOut {
		case 2 * MiB:
			want = []Range{{Base: d.Base, Size: 2 * MiB}, {Base: d.End() - 2*MiB, Size: 2 * MiB}}
		case 4 << 10:
			want = []Range{{Base: d.Base, Size: 0x3000}, {Base: d.End() - 0x1000, Size: 0x1000}}
		default:
			t.Fatalf("%s: round-out %#x", name, b.DMARoundOut)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: eager DMA %v, want %v", name, got, want)
		}
		if w := l.EagerDMA(inUse, true); len(w) != 1 || w[0] != d {
			t.Errorf("%s: whole: %v, want %v", name, w, d)
		}
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("pi4"); err == nil || err.Error() != "BOARD=pi4 is not supported: use one of: cloud-hypervisor firecracker gcp imx8mpevk qemu-microvm qemu-virt tamago-microvm" {
		t.Errorf("Lookup(pi4): %v", err)
	}
	for name := range Unsupported {
		if _, ok := Boards[name]; !ok {
			t.Errorf("unsupported board %s is not a board", name)
		}
	}
}

var kernelPlan = kernel.Plan

// A disk-only machine holds the captured RAM, the reserved region and a
// snapshot to disk's RAM region, no image in RAM: its guest memory is
// the least that does (one MiB less does not) and under twice the
// captured RAM, where an image in RAM needs more than twice.
func TestDiskOnlyGuest(t *testing.T) {
	for _, tc := range []struct {
		board, ram string
		diskMiB    uint64
	}{
		{"qemu-microvm", "256M", 570},
		{"qemu-virt", "256M", 300},
	} {
		t.Run(tc.board+"-"+tc.ram, func(t *testing.T) {
			b, _ := Lookup(tc.board)
			size, _ := ParseSize(tc.ram)
			l, err := b.Plan(size)
			if err != nil {
				t.Fatal(err)
			}
			if l.DiskGuestMiB != tc.diskMiB {
				t.Errorf("disk-only guest memory %d MiB, want %d", l.DiskGuestMiB, tc.diskMiB)
			}
			captured := capturedBytes(l.Machine) / MiB
			if l.DiskGuestMiB >= 2*captured || l.GuestMiB <= 2*captured {
				t.Errorf("disk-only %d MiB, RAM image %d MiB, captured %d MiB", l.DiskGuestMiB, l.GuestMiB, captured)
			}
			for _, c := range []struct {
				mib  uint64
				want bool
			}{{l.DiskGuestMiB, true}, {l.DiskGuestMiB - 1, false}, {DiskImageMiB(l), true}} {
				m, err := kernel.Plan(b.GuestRAM(c.mib), l.DMA)
				if err != nil {
					t.Fatal(err)
				}
				if m.HoldsDiskBuffer() != c.want || m.HoldsImage() {
					t.Errorf("%d MiB: storage %v holds the disk buffer (%#x): %v, an image: %v", c.mib, m.Storage, m.DiskStorageNeeded(), m.HoldsDiskBuffer(), m.HoldsImage())
				}
			}
		})
	}
}
