//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// cpuinit is the first board code to run (the ELF entry jumps here through
// runtime/goos.CPUInit). QEMU enters at EL1h (EL2h with virtualization=on,
// EL3h with secure=on) with the MMU off, all exceptions masked and X0 = 0.
// It passes virt's GIC bases, boot tables and early function to the
// shared start-up (aarch64.Start), which drops to EL1 and enters the
// runtime.
TEXT cpuinit(SB),NOSPLIT|NOFRAME,$0
	MOVD	$const_GICD_BASE, R19
	MOVD	$const_GICR_BASE, R20
	MOVD	$const_GICC_BASE, R21
	MOVD	$const_RamStart, R22
	MOVD	$·earlyInit(SB), R23
	B	github·com∕pagesnap∕pagesnap∕board∕aarch64·Start(SB)
