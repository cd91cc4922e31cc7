//go:build tamago && linkramsize

package tamago

import _ "unsafe"

// ramSize is the runtime's memory (goos.RamSize): 1 GiB, tamago's
// default. make kernel BOARD=... RAM=SIZE replaces this file through go
// build -overlay with one cmd/pagesnap-board writes.
//
//go:linkname ramSize runtime/goos.RamSize
var ramSize uint64 = 1 << 30
