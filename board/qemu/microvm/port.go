package microvm

// Port I/O and the time-stamp counter, in port_amd64.s.

//go:nosplit
func inb(port uint16) uint8

//go:nosplit
func outb(port uint16, val uint8)

//go:nosplit
func outl(port uint16, val uint32)

//go:nosplit
func rdtsc() uint64
