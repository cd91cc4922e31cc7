//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// cpuinit is the first board code to run (the ELF entry jumps here through
// runtime/goos.CPUInit). QEMU enters at EL1h with the MMU off, all
// exceptions masked and X0 = 0.
TEXT cpuinit(SB),NOSPLIT|NOFRAME,$0
	// CurrentEL, bits 3:2: the exception level.
	MRS	CurrentEL, R0
	UBFX	$2, R0, $2, R0
	CMP	$1, R0
	BNE	wrongEL

	// Enable FP/SIMD at EL1 and EL0: the runtime uses them at once.
	MRS	CPACR_EL1, R0
	ORR	$const_CPACR_EL1_FPEN, R0
	MSR	R0, CPACR_EL1
	ISB	$15

	// Exception stack: SPSel is 1 at reset, so RSP is SP_EL1.
	MOVD	$·exceptionStack(SB), R0
	ADD	$const_exceptionStackSize, R0
	AND	$~15, R0
	MOVD	R0, RSP

	MOVD	$·vectors(SB), R0
	MSR	R0, VBAR_EL1
	ISB	$15

	BL	·mmuinit(SB)

	// Size the runtime's memory from the device tree (sets RamSize).
	SUB	$16, RSP
	BL	·earlyInit(SB)
	ADD	$16, RSP

	// The runtime runs on SP_EL0 (SPSel = 0), exceptions on SP_EL1.
	MSR	$0, SPSel
	MOVD	runtime∕goos·RamStart(SB), R0
	MOVD	runtime∕goos·RamSize(SB), R1
	MOVD	runtime∕goos·RamStackOffset(SB), R2
	ADD	R1, R0
	SUB	R2, R0
	AND	$~15, R0
	MOVD	R0, RSP
	B	_rt0_tamago_start(SB)

wrongEL:
	// Not EL1: QEMU was started with virtualization=on or secure=on.
	MOVD	$wrongELMsg<>(SB), R1
	MOVD	$const_PL011_BASE, R2
puts:
	MOVBU.P	1(R1), R3
	CBZ	R3, done
	MOVW	R3, (R2)
	B	puts
done:
	// Semihosting and PSCI calls would trap to vectors of a level we
	// do not set up: wait, with the message on the console.
	WFE
	B	done

DATA wrongELMsg<>+0(SB)/8, $"virt: en"
DATA wrongELMsg<>+8(SB)/8, $"tered ou"
DATA wrongELMsg<>+16(SB)/8, $"tside EL"
DATA wrongELMsg<>+24(SB)/8, $"1: run w"
DATA wrongELMsg<>+32(SB)/8, $"ithout v"
DATA wrongELMsg<>+40(SB)/8, $"irtualiz"
DATA wrongELMsg<>+48(SB)/8, $"ation=on"
DATA wrongELMsg<>+56(SB)/8, $" and sec"
DATA wrongELMsg<>+64(SB)/8, $"ure=on\n\x00"
GLOBL wrongELMsg<>(SB), RODATA, $72

// mmuinit builds the identity boot tables (see cpu.go) and turns on the
// MMU with caches. It uses R0-R7 and needs no stack.
TEXT ·mmuinit(SB),NOSPLIT|NOFRAME,$0
	MOVD	$const_bootL1, R0
	MOVD	$const_bootL2, R1

	// L1[0]: the level 2 table for 0-1 GiB.
	ORR	$const_PTE_TABLE, R1, R2
	MOVD	R2, (R0)
	// L1[1..255]: 1 GiB blocks of normal memory (RAM lies here).
	MOVD	$1, R3
	MOVD	$const_blockNormal, R5
l1normal:
	LSL	$30, R3, R4
	ORR	R5, R4
	MOVD	R4, (R0)(R3<<3)
	ADD	$1, R3
	CMP	$256, R3
	BLT	l1normal
	// L1[256..511]: 1 GiB blocks of device memory.
	MOVD	$const_blockDevice, R5
l1device:
	LSL	$30, R3, R4
	ORR	R5, R4
	MOVD	R4, (R0)(R3<<3)
	ADD	$1, R3
	CMP	$512, R3
	BLT	l1device

	// L2[0]: invalid (0-2 MiB faults); L2[1..511]: 2 MiB device blocks.
	MOVD	ZR, (R1)
	MOVD	$1, R3
l2device:
	LSL	$21, R3, R4
	ORR	R5, R4
	MOVD	R4, (R1)(R3<<3)
	ADD	$1, R3
	CMP	$512, R3
	BLT	l2device

	MOVD	$const_bootMAIR, R0
	MSR	R0, MAIR_EL1
	MOVD	$const_bootTCR, R0
	MSR	R0, TCR_EL1
	MOVD	$const_bootL1, R0
	MSR	R0, TTBR0_EL1
	// The table stores complete before the first walk; no stale
	// translations remain (Arm ARM, chapter D8, "TLB maintenance").
	DSB	$15
	TLBI	VMALLE1
	DSB	$15
	ISB	$15

	MRS	SCTLR_EL1, R0
	ORR	$(const_SCTLR_EL1_M|const_SCTLR_EL1_C|const_SCTLR_EL1_I), R0
	BIC	$(const_SCTLR_EL1_A|const_SCTLR_EL1_WXN), R0
	MSR	R0, SCTLR_EL1
	ISB	$15
	RET
