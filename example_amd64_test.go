//go:build tamago && amd64

package pagesnap_test

import (
	"sync"

	"github.com/pagesnap/pagesnap"
	"github.com/pagesnap/pagesnap/board/qemu/microvm"
)

var (
	openOnce sync.Once
	snap     *pagesnap.Snapshotter
)

// snapshotter opens pagesnap on QEMU microvm, once.
func snapshotter() *pagesnap.Snapshotter {
	openOnce.Do(func() {
		s, err := pagesnap.Open(pagesnap.Board{
			DMA:            pagesnap.Range{Base: microvm.DMAStart, Size: microvm.DMASize},
			TicksPerSecond: microvm.TSCFrequency(),
			Platform:       pagesnap.Platform{LAPIC: microvm.LAPIC},
			Log:            func(string, ...any) {}, // progress lines would be example output
		})
		if err != nil {
			panic(err)
		}
		snap = s
	})
	return snap
}
