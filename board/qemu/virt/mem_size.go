package virt

// runtimeRamEnd is where the runtime's memory ends; 0 here, the default:
// the runtime takes the whole bank holding RamStart, up to RamLimit, and
// the board has no DMA region (the self-test kernel). make kernel RAM=768M
// replaces this file through go build -overlay with one that
// cmd/pagesnap-board writes (runtimeRamEnd = DTBAddress + 768 MiB, the
// DMA region after it) after checking the size fits (package
// board/layout).
const runtimeRamEnd = 0
