//go:build ram2g && !ram1g

package virt

// runtimeRamEnd with the ram2g build tag: the runtime's memory ends 2 GiB
// into RAM, followed by the DMA region (see DMA).
const runtimeRamEnd = DTBAddress + 2<<30
