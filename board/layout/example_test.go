package layout_test

import (
	"fmt"

	"github.com/pagesnap/pagesnap/board/layout"
)

// The plan make kernel RAM=768M builds for QEMU microvm, and the guest
// memory the machine needs.
func ExampleBoard_Plan() {
	b, _ := layout.Lookup("qemu-microvm")
	l, err := b.Plan(768 * layout.MiB)
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Machine)
	fmt.Println("guest memory:", l.GuestMiB, "MiB; largest RAM:", layout.FormatSize(b.MaxRAM()))
	// Output:
	// layout: captured=0x1000-0x41000000 dma=0x40000000-0x41000000 reserved=0x41000000-0x41a00000 storage=0x41a00000+0x41832000
	// guest memory: 2099 MiB; largest RAM: 2790M
}

// A size the board cannot hold is refused with the reason.
func ExampleBoard_Check() {
	b, _ := layout.Lookup("qemu-virt")
	fmt.Println(b.Check(3 * layout.GiB))
	// Output: RAM size: RAM=3G does not fit qemu-virt: the runtime's memory 0x40100000-0x100000000 and the 16 MiB DMA window after it must end by 0x100000000 (the GOOS=tamago heap addresses are 32 bits wide (board/qemu/virt RamLimit), and the DMA window stays where 32-bit DMA addresses reach it); the largest size is RAM=3056M
}

// The guest memory an image gives a tamago board's VM (vm_config.json,
// the launch scripts), the RAM map the kernel then assumes, and how make
// kernel BOARD= builds for it.
func ExampleImageMiB() {
	b, _ := layout.Lookup("firecracker")
	l, err := b.Plan(layout.GiB)
	if err != nil {
		panic(err)
	}
	mib := layout.ImageMiB(l)
	fmt.Println(l.GuestMiB, "MiB planned,", mib, "MiB given")
	for _, r := range b.GuestRAM(mib) {
		fmt.Printf("RAM %#x+%#x\n", r.Base, r.Size)
	}
	fmt.Println(b.BuildTags(), "|", b.LinkerFlags())
	// Output:
	// 4621 MiB planned, 4672 MiB given
	// RAM 0x0+0xc0000000
	// RAM 0x100000000+0x64000000
	// linkramsize board_firecracker | -T 0x10010000 -R 0x1000
}

// Sizes are whole MiB, written as make's RAM= takes them.
func ExampleParseSize() {
	n, err := layout.ParseSize("2790M")
	fmt.Println(n, err, layout.FormatSize(n), layout.FormatSize(3*layout.GiB))
	// Output: 2925527040 <nil> 2790M 3G
}
