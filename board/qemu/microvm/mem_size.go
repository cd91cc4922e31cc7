package microvm

// ramSizeBytes is the runtime's memory: 256 MiB, the default. make kernel
// RAM=768M replaces this file through go build -overlay with one that
// cmd/pagesnap-board writes after checking the size fits (package
// board/layout).
const ramSizeBytes = 256 << 20
