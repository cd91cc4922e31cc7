package imx8mpevk

// ramSizeBytes is the runtime's memory from RamStart: 1 GiB here, the
// default. make kernel BOARD=imx8mpevk RAM=768M replaces this file through
// go build -overlay with one that cmd/pagesnap-board writes after checking
// the size fits (package board/layout).
const ramSizeBytes = 1 << 30
