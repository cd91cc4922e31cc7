//go:build tamago && amd64

// Command trigger is a complete TamaGo application embedding pagesnap (QEMU
// microvm): its work keeps running while it takes a live snapshot on a
// trigger (the 100000th record), waits for the image and verifies it.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/pagesnap/pagesnap"
	"github.com/pagesnap/pagesnap/board/qemu/microvm"
)

var records = map[int][]byte{}

func fail(err error) {
	fmt.Println("trigger: FAIL:", err)
	os.Exit(1)
}

func main() {
	s, err := pagesnap.Open(pagesnap.Board{
		DMA:            pagesnap.Range{Base: microvm.DMAStart, Size: microvm.DMASize},
		TicksPerSecond: microvm.TSCFrequency(),
		Platform:       pagesnap.Platform{LAPIC: microvm.LAPIC},
	})
	if err != nil {
		fail(err)
	}
	trigger := make(chan struct{})
	go func() { // the application's work: it does not stop for the snapshot
		for i := 1; ; i++ {
			records[i%4096] = make([]byte, 512)
			if i == 100000 {
				close(trigger)
			}
			if i%1000 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	<-trigger
	r, err := s.Start(pagesnap.Options{})
	if err != nil {
		fail(err)
	}
	fmt.Printf("trigger: started instant=%d pause=%.1fus eager=%d\n", r.Instant, s.Micros(r.PauseTicks), r.EagerPages)
	if err := s.Wait(30 * time.Minute); err != nil {
		fail(err)
	}
	v, err := s.Verify()
	if err != nil {
		fail(err)
	}
	fmt.Println(v)
	fmt.Println("trigger: PASS")
	os.Exit(0)
}
