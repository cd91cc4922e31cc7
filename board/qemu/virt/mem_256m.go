//go:build ram256m && !ram1g && !ram2g

package virt

// runtimeRamEnd with the ram256m build tag: the runtime's memory ends 256
// MiB into RAM, followed by the DMA region (see DMA).
const runtimeRamEnd = DTBAddress + 256<<20
