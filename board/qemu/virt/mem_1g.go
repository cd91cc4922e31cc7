//go:build ram1g

package virt

// runtimeRamEnd with the ram1g build tag: the runtime's memory ends 1 GiB
// into RAM, followed by the DMA region (see DMA).
const runtimeRamEnd = DTBAddress + 1<<30
