//go:build !ram256m && !ram1g && !ram2g

package virt

// runtimeRamEnd is where a ram* build tag ends the runtime's memory; 0
// (no tag): the runtime takes the whole bank holding RamStart, up to
// RamLimit, and the board has no DMA region.
const runtimeRamEnd = 0
