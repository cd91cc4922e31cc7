//go:build tamago && arm64

package pagesnap_test

import (
	"sync"

	"github.com/pagesnap/pagesnap"
	"github.com/pagesnap/pagesnap/board/aarch64"
	"github.com/pagesnap/pagesnap/board/qemu/virt"
)

var (
	openOnce sync.Once
	snap     *pagesnap.Snapshotter
)

// snapshotter opens pagesnap on QEMU virt, once.
func snapshotter() *pagesnap.Snapshotter {
	openOnce.Do(func() {
		base, size := virt.DMA()
		s, err := pagesnap.Open(pagesnap.Board{
			DMA:            pagesnap.Range{Base: base, Size: size},
			TicksPerSecond: aarch64.CounterFrequency(),
			Platform:       pagesnap.Platform{Board: virt.Board{}},
			Log:            func(string, ...any) {}, // progress lines would be example output
		})
		if err != nil {
			panic(err)
		}
		snap = s
	})
	return snap
}
