//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// cpuinit is the first board code to run (the ELF entry, jumped to by
// U-Boot's bootelf or go, branches here through runtime/goos.CPUInit): at
// EL2 from U-Boot (EL3 or EL1 are handled too). It passes the i.MX 8M
// Plus's GICv3 bases and the boot tables at DDR's base to the shared
// start-up (aarch64.Start), with no early function: the runtime's memory
// size is fixed at build time (mem_size.go).
TEXT cpuinit(SB),NOSPLIT|NOFRAME,$0
	MOVD	$const_GICD_BASE, R19
	MOVD	$const_GICR_BASE, R20
	MOVD	ZR, R21
	MOVD	$const_RamStart, R22
	MOVD	ZR, R23
	B	github·com∕pagesnap∕pagesnap∕board∕aarch64·Start(SB)
