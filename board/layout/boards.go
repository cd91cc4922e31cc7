package layout

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pagesnap/pagesnap/kernel"
)

// Addresses shared by the boards below.
const (
	// x86RamStart is goos.RamStart of tamago's amd64 package and of
	// board/qemu/microvm; kernels are linked 64 KiB above it.
	x86RamStart = 0x10000000
	// x86HoleStart is where RAM below 4 GiB ends on QEMU microvm (measured:
	// info mtree with -m 4G shows microvm.ram up to 0xbfffffff and the
	// rest at 4 GiB), Firecracker and Cloud Hypervisor (their 32-bit
	// device area starts at 3 GiB: tamago's Firecracker board puts
	// VIRTIO_MMIO_BASE there).
	x86HoleStart = 0xc0000000
	// virtDTB is QEMU virt's RAM base, where it loads the device tree.
	virtDTB = 0x40000000
	// imx8mpDDR is the i.MX 8M Plus DDR base (tamago soc/nxp/imx8mp
	// DDR_BASE).
	imx8mpDDR = 0x40000000
	// tamagoDMASize is the DMA region tamago's x86 boards declare (256
	// MiB at 0x50000000, right after their default 1 GiB of runtime
	// memory); pagesnap's glue moves it to follow the runtime's memory.
	tamagoDMASize = 256 * MiB
	// ownDMASize is the DMA window of pagesnap's own QEMU boards
	// (board/qemu/microvm DMASize, board/qemu/virt DMASize) and the one
	// its glue gives the i.MX 8M Plus in DDR (board/tamago
	// board_imx8mpevk.go DMASize).
	ownDMASize = 16 * MiB
)

var x86HoleWhy = fmt.Sprintf("pagesnap's %d MiB reserved region follows it, in RAM below the 32-bit device hole at %#x", kernel.ReservedSize/MiB, uint64(x86HoleStart))

// x86 returns a board whose RAM starts at 0 and whose low RAM ends at the
// 32-bit hole.
func x86(name, pkg, platform string, dmaSize uint64, tamago bool, def uint64) Board {
	return Board{
		Name: name, Arch: "amd64", Package: pkg, Platform: platform,
		RAMBase: 0, RuntimeStart: x86RamStart, TextStart: x86RamStart + 0x10000, SizeBase: x86RamStart,
		DMASize: dmaSize, DMARoundOut: 2 * MiB,
		LowRAMTop: x86HoleStart, EndLimit: x86HoleStart - kernel.ReservedSize, Why: x86HoleWhy,
		TamagoBoard: tamago, DefaultRAM: def,
	}
}

// Boards are the boards a pagesnap kernel is built for, by make BOARD= name.
var Boards = map[string]Board{
	"qemu-microvm": x86("qemu-microvm", "github.com/pagesnap/pagesnap/board/qemu/microvm",
		"QEMU microvm, TCG or KVM", ownDMASize, false, 256*MiB),
	"qemu-virt": {
		Name: "qemu-virt", Arch: "arm64", Package: "github.com/pagesnap/pagesnap/board/qemu/virt",
		Platform: "QEMU virt, TCG or KVM",
		RAMBase:  virtDTB, RuntimeStart: virtDTB + 0x100000, TextStart: virtDTB + 0x110000, SizeBase: virtDTB,
		DMASize: ownDMASize, DMARoundOut: 4 << 10,
		EndLimit:   FourGiB,
		Why:        "the GOOS=tamago heap addresses are 32 bits wide (board/qemu/virt RamLimit), and the DMA window stays where 32-bit DMA addresses reach it",
		DefaultRAM: 256 * MiB,
	},
	"tamago-microvm": x86("tamago-microvm", "github.com/usbarmory/tamago/board/qemu/microvm",
		"QEMU microvm under KVM (tamago's board: kvmclock)", tamagoDMASize, true, 1*GiB),
	"firecracker": x86("firecracker", "github.com/usbarmory/tamago/board/firecracker/microvm",
		"Firecracker (KVM)", tamagoDMASize, true, 1*GiB),
	"cloud-hypervisor": x86("cloud-hypervisor", "github.com/usbarmory/tamago/board/cloud_hypervisor/vm",
		"Cloud Hypervisor (KVM)", tamagoDMASize, true, 1*GiB),
	"gcp": x86("gcp", "github.com/usbarmory/tamago/board/google/gcp",
		"Google Compute Engine (KVM)", tamagoDMASize, true, 1*GiB),
	"imx8mpevk": {
		Name: "imx8mpevk", Arch: "arm64", Package: "github.com/usbarmory/tamago/board/nxp/imx8mpevk",
		Platform: "NXP 8MPLUSLPD4-EVK (6 GiB LPDDR4)",
		RAMBase:  imx8mpDDR, RuntimeStart: imx8mpDDR, TextStart: imx8mpDDR + 0x10000, SizeBase: imx8mpDDR,
		DMASize: ownDMASize, DMARoundOut: 4 << 10,
		EndLimit:    FourGiB,
		Why:         "the GOOS=tamago heap addresses are 32 bits wide",
		TamagoBoard: true, DefaultRAM: 1 * GiB,
	},
}

// Unsupported says why a board's kernel cannot be built here ("" when it
// can).
var Unsupported = map[string]string{
	"imx8mpevk": "pagesnap's arm64 kernel is written for QEMU virt: the kernel package imports board/qemu/virt (RAM map and CPU count from QEMU's device tree, " +
		"the tick, the EL1 exception vectors that carry the snapshot's write faults), which cannot link beside another board; " +
		"tamago v1.26.0's arm64 package does not compile with pagesnap's toolchain (its arm64/mmu.go takes runtime.MemRegion and TextRegion as uint64, " +
		"this toolchain returns uint: TestIMX8MPEVKGlue); and tamago's arm64 runtime runs at EL3 on EL3's translation tables and vectors " +
		"(arm64.Init, which no build tag drops, programs TTBR0_EL3 and SCTLR_EL3), while pagesnap's write protection and fault path are EL1's " +
		"(mmu/ TLB maintenance, kernel/fault_arm64.s). pagesnap's glue for the board (board/tamago/board_imx8mpevk.go) links once the toolchain " +
		"is widened; the GICv3 and EL3 entry are verified on QEMU virt (docs/boards.md)",
}

// Lookup returns the board named name, or an error listing the boards.
func Lookup(name string) (Board, error) {
	if b, ok := Boards[name]; ok {
		return b, nil
	}
	return Board{}, fmt.Errorf("BOARD=%s is not supported: use one of: %s", name, strings.Join(Names(), " "))
}

// Names returns the board names, sorted.
func Names() []string {
	var n []string
	for k := range Boards {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Default returns the board pagesnap's own kernel uses on arch.
func Default(arch string) (Board, error) {
	switch arch {
	case "amd64":
		return Boards["qemu-microvm"], nil
	case "arm64":
		return Boards["qemu-virt"], nil
	}
	return Board{}, fmt.Errorf("ARCH=%s is not supported: use one of: amd64 arm64", arch)
}
