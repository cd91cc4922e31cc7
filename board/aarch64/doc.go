// Package aarch64 is the start-up and processor support shared by
// pagesnap's arm64 boards (board/qemu/virt, board/nxp/imx8mpevk): Start,
// entered from the board's cpuinit at EL3, EL2 or EL1, does at EL3 what
// firmware does before a Non-secure kernel (the GIC's Secure side) and
// drops to EL2, drops from EL2 to EL1 with nothing trapped, and at EL1
// enables FP/SIMD, installs the exception vectors (SP_EL1 stack), turns
// on the MMU with identity boot tables (devices below 1 GiB, normal
// memory from 1 GiB), calls the board's early function and enters the
// runtime on SP_EL0. The runtime then runs at EL1, where pagesnap's write
// protection and fault path work (package kernel).
//
// Also here: the generic timer (the clock, runtime/goos.Nanotime; Idle;
// with StartTick the periodic tick, PPI 27, through the board's GICv2 or
// GICv3), the exception vectors and handler (aborts in Go code become
// panics; AbortHandler), the device interrupt (EnableSPI) and Exit
// (semihosting under QEMU, then PSCI SYSTEM_OFF). The board supplies
// its console (runtime/goos.Printk), its RAM layout (runtime/goos.RamStart
// and RamSize) and its interrupt controller (InterruptController).
package aarch64
