package lines_test

import (
	"fmt"

	"github.com/pagesnap/pagesnap/lines"
)

// The harness reads the kernel's layout: line with the definition the
// kernel printed it with.
func ExampleParseLayout() {
	l, err := lines.ParseLayout("layout: captured=0x1000-0x21000000 dma=0x20000000-0x21000000 reserved=0x21000000-0x21a00000 storage=0x21a00000+0x2142a000")
	if err != nil {
		panic(err)
	}
	fmt.Printf("captured %d MiB, DMA %d MiB at %#x, storage %#x bytes\n", l.Captured[0].Size>>20, l.DMA.Size>>20, l.DMA.Base, l.Storage.Size)
	fmt.Println(l)
	// Output:
	// captured 527 MiB, DMA 16 MiB at 0x20000000, storage 0x2142a000 bytes
	// layout: captured=0x1000-0x21000000 dma=0x20000000-0x21000000 reserved=0x21000000-0x21a00000 storage=0x21a00000+0x2142a000
}

func ExampleStarted() {
	s, err := lines.ParseStarted("> snap: started dma=inuse instant=42 pause=2612.5us pause-ticks=6771 eager=1544 entries-touched=13 dma-ranges=2 share=20% mark=0x1f")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Mode, s.PauseMicros, s.Eager, s.Share, s.Extra)
	// Output: inuse 2612.5 1544 20 [[mark 0x1f]]
}
