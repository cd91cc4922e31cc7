package lines_test

import (
	"fmt"
	"time"

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

// The kernel logs the complete line when its image is done; the harness
// reads the counters and the drain's shares back.
func ExampleParseComplete() {
	c, err := lines.ParseComplete("snap: complete pages=135167 eager=1544 faults=30211 fault-copies=30100 drained=103523 discards=2 pool-used=17 tables-merged=9 pool-after=8 total=41.234s drain-copy=0.09s drain-hash=19.6s drain-protect=0.01s drain-share=48.2% tick-share=40.1% idle-share=8.1% goroutine-share=0.0% share-setting=50% ticks=4123 tick-busy=3 hz=100")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Pages, c.Eager+c.FaultCopies+c.Drained, c.Total, c.DrainShare, c.Hz, c.DrainTime.Hash)
	// Output: 135167 135167 41.234s 48.2 100 19.6s
}

// snap status answers with the current snapshot's progress.
func ExampleStatus() {
	s := lines.Status{Phase: "drain", Mode: "inuse", Copied: 5000, Pages: 135167, Hashed: 4000, Eager: 1544, Faults: 200, FaultCopies: 190,
		Drained: 3266, IdleDrains: 12, IdleCalls: 40, EntriesTouched: 13, PauseMicros: 2612.5,
		DrainTime: lines.DrainTime{Copy: 3 * time.Millisecond, Hash: 230 * time.Millisecond, Protect: 400 * time.Microsecond},
		Shares:    lines.Shares{DrainShare: 20.5, TickShare: 19, IdleShare: 1.5, ShareSetting: 20, Ticks: 31, Hz: 100}}
	fmt.Println(s)
	back, err := lines.ParseStatus(s.String())
	fmt.Println(back.Copied*100/back.Pages, back.Kept, err)
	// Output:
	// snap: status phase=drain dma=inuse copied=5000 pages=135167 hashed=4000 eager=1544 faults=200 fault-copies=190 drained=3266 idle-drains=12 idle-calls=40 entries-touched=13 pause=2612.5us kept=false drain-copy=0.003s drain-hash=0.23s drain-protect=0.0004s drain-share=20.5% tick-share=19.0% idle-share=1.5% goroutine-share=0.0% share-setting=20% ticks=31 tick-busy=0 hz=100
	// 3 false <nil>
}

// snap verify answers with the verified image's page count and hash-tree
// root, or with an error line the parser refuses.
func ExampleParseVerified() {
	v, err := lines.ParseVerified("> snap: verify ok pages=135167 root=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	fmt.Println(v.Pages, v.Root[:8], err)
	_, err = lines.ParseVerified("error: snap: image not complete (phase drain)")
	fmt.Println(err)
	// Output:
	// 135167 9f86d081 <nil>
	// lines: not a "snap: verify ok" line: "error: snap: image not complete (phase drain)"
}

// The pagesnap kernel's work stats line: the harness times guest sleeps
// with its clock (t, nanoseconds) and reads the workload's rates.
func ExampleParseWork() {
	a, _ := lines.ParseWork("work: running=true allocs=1000 writes=50000 t=1000000000 dma-bytes=0 array=0x12340000+0x100000 mode=cpu dma-irqs=3 dma-wakes=2")
	b, _ := lines.ParseWork("work: running=true allocs=3000 writes=250000 t=3000000000 dma-bytes=4096 array=0x12340000+0x100000 mode=cpu dma-irqs=9 dma-wakes=4")
	dt := float64(b.T-a.T) / 1e9
	fmt.Printf("%.0f writes/s, %.0f allocs/s, array %d MiB\n", float64(b.Writes-a.Writes)/dt, float64(b.Allocs-a.Allocs)/dt, a.Array.Size>>20)
	// Output: 100000 writes/s, 1000 allocs/s, array 1 MiB
}
