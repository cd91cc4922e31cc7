// Package lapic drives the local APIC of an x86-64 processor (Intel SDM
// Vol. 3A, chapter 11 "Advanced Programmable Interrupt Controller"): its
// enable and spurious-vector register, end of interrupt, and the LAPIC
// timer (timer.go), for GOOS=tamago kernels. The board owns the instance
// (its Base); the kernel's periodic tick runs on it.
//
// The methods the interrupt path uses (EOI, Arm) are nosplit and allocate
// nothing: they are single 32-bit MMIO accesses (mmio_amd64.s).
//
// The driver is for amd64 (the register accesses are amd64 assembly); on
// other architectures the package is empty.
package lapic
