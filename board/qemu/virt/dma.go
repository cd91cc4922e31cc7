//go:build tamago && arm64

package virt

import (
	tdma "github.com/usbarmory/tamago/dma"
)

// DMASize is the size of the DMA region that follows the runtime's memory
// when a build for a RAM size (make kernel RAM=..., mem_size.go) limits it: tamago's global
// DMA region, for device rings and buffers. Without such a tag the runtime
// takes the whole bank and there is no DMA region.
const DMASize = 16 << 20

// dmaStart is the DMA region's start (0: none), set by limitRam before
// the runtime starts; dmaErr says why there is none in a build for a RAM size.
var (
	dmaStart uint64
	dmaErr   string
)

// limitRam ends the runtime's memory at runtimeRamEnd (mem_size.go) when the
// bank of size bytes from RamStart also holds the DMA region after it.
// earlyInit calls it: nosplit, no allocation, constant strings only.
//
//go:nosplit
func limitRam(size uint64) {
	end := uint64(runtimeRamEnd)
	if end == 0 {
		return
	}
	if RamStart+size < end+DMASize {
		dmaErr = "RAM ends before the DMA region of this RAM= build: no DMA region (give QEMU more memory, -m)"
		return
	}
	ramSize = uint(end - RamStart)
	dmaStart = end
}

// DMA returns the board's DMA region (size 0 when there is none: a build
// without a RAM size, or too little RAM).
func DMA() (start, size uint64) {
	if dmaStart == 0 {
		return 0, 0
	}
	return dmaStart, DMASize
}

func init() {
	if dmaErr != "" {
		print("virt: ", dmaErr, "\n")
	}
	if dmaStart != 0 {
		if err := tdma.Init(uint(dmaStart), DMASize); err != nil {
			panic(err)
		}
	}
}
