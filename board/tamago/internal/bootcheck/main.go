//go:build tamago && linkramsize

// Command bootcheck boots on one of tamago's own amd64 board packages with
// pagesnap's glue (package board/tamago) and checks what pagesnap needs of
// the board: the runtime's memory as built (RAM=), the DMA window right
// after it, DMA allocation through pagesnap's dma package inside that
// window, the board's clock advancing and its console. It prints
// "bootcheck: PASS" and stops the machine through the board's Exit.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/goos"
	"time"

	"github.com/pagesnap/pagesnap/board/tamago"
	"github.com/pagesnap/pagesnap/dma"
)

func main() {
	fmt.Printf("bootcheck: %s/%s board=%s\n", runtime.GOOS, runtime.GOARCH, tamago.Name)
	start, size := tamago.DMA()
	fmt.Printf("bootcheck: runtime=%#x-%#x dma=%#x-%#x\n", goos.RamStart, goos.RamStart+goos.RamSize, start, start+size)
	ok := true
	addr, buf := dma.Reserve(64<<10, 4096)
	if uint64(addr) < start || uint64(addr)+uint64(len(buf)) > start+size {
		fmt.Printf("bootcheck: dma: block %#x+%#x outside the window: FAIL\n", addr, len(buf))
		ok = false
	} else {
		fmt.Printf("bootcheck: dma: block %#x+%#x in the window, in use %v\n", addr, len(buf), dma.InUse(nil))
	}
	t0 := time.Now()
	time.Sleep(10 * time.Millisecond)
	if d := time.Since(t0); d <= 0 {
		fmt.Printf("bootcheck: clock: %v after a 10 ms sleep: FAIL\n", d)
		ok = false
	}
	if ok {
		fmt.Println("bootcheck: PASS")
		os.Exit(0)
	}
	fmt.Println("bootcheck: FAIL")
	os.Exit(1)
}
