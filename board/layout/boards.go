package layout

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pagesnap/pagesnap/board/nxp/imx8mpevk"
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
	// imx8mpDDR is the i.MX 8M Plus DDR base (board/nxp/imx8mpevk).
	imx8mpDDR = imx8mpevk.DDR_BASE
	// tamagoDMASize is the DMA region tamago's x86 boards declare (256
	// MiB at 0x50000000, right after their default 1 GiB of runtime
	// memory); pagesnap's glue moves it to follow the runtime's memory.
	tamagoDMASize = 256 * MiB
	// ownDMASize is the DMA window of pagesnap's own boards
	// (board/qemu/microvm DMASize, board/qemu/virt DMASize,
	// board/nxp/imx8mpevk DMASize: in DDR).
	ownDMASize = imx8mpevk.DMASize
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
		Name: "imx8mpevk", Arch: "arm64", Package: "github.com/pagesnap/pagesnap/board/nxp/imx8mpevk",
		Platform: "NXP 8MPLUSLPD4-EVK (6 GiB LPDDR4), booted by U-Boot (bootelf)",
		RAMBase:  imx8mpDDR, RuntimeStart: imx8mpevk.RamStart, TextStart: imx8mpevk.TextStart, SizeBase: imx8mpDDR,
		DMASize: ownDMASize, DMARoundOut: 4 << 10,
		EndLimit:   FourGiB,
		Why:        "the GOOS=tamago heap addresses are 32 bits wide",
		Tags:       "board_imx8mpevk",
		FixedRAM:   imx8mpevk.DDRSize,
		DefaultRAM: 1 * GiB,
	},
}

// TamagoIMX8MPEVK is tamago's own board/nxp/imx8mpevk with pagesnap's glue
// (board/tamago/board_imx8mpevk.go), which cannot carry the pagesnap
// kernel (docs/boards.md: tamago's arm64 package does not compile with
// this toolchain, and its runtime runs at EL3): not a BOARD= choice, kept
// for board/tamago's TestIMX8MPEVKGlue, which pins those reasons down.
var TamagoIMX8MPEVK = Board{
	Name: "imx8mpevk", Arch: "arm64", Package: "github.com/usbarmory/tamago/board/nxp/imx8mpevk",
	Platform: "NXP 8MPLUSLPD4-EVK (6 GiB LPDDR4)",
	RAMBase:  imx8mpDDR, RuntimeStart: imx8mpDDR, TextStart: imx8mpDDR + 0x10000, SizeBase: imx8mpDDR,
	DMASize: ownDMASize, DMARoundOut: 4 << 10,
	EndLimit:    FourGiB,
	Why:         "the GOOS=tamago heap addresses are 32 bits wide",
	TamagoBoard: true, DefaultRAM: 1 * GiB,
}

// Unsupported says why a board's kernel cannot be built here ("" when it
// can).
var Unsupported = map[string]string{}

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
