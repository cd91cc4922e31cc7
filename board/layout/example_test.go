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
