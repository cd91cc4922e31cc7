//go:build tamago && amd64

// Package ioport is x86 port I/O and the time-stamp counter (Intel SDM
// Vol. 1 18.2 "I/O Port Addressing"; Vol. 2B RDTSC), shared by the board
// and the kernel. Every function is nosplit and touches no memory: the
// page-fault path uses them.
package ioport

// In8 reads a byte from port (IN AL, DX).
//
//go:nosplit
func In8(port uint16) uint8

// Out8 writes a byte to port (OUT DX, AL).
//
//go:nosplit
func Out8(port uint16, val uint8)

// Out16 writes a word to port (OUT DX, AX).
//
//go:nosplit
func Out16(port uint16, val uint16)

// Out32 writes a doubleword to port (OUT DX, EAX).
//
//go:nosplit
func Out32(port uint16, val uint32)

// RDTSC returns the time-stamp counter.
//
//go:nosplit
func RDTSC() uint64
