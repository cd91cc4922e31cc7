//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// cpuinit is the first board code to run (the ELF entry jumps here through
// runtime/goos.CPUInit). QEMU enters at EL1h (EL2h with virtualization=on)
// with the MMU off, all exceptions masked and X0 = 0.
TEXT cpuinit(SB),NOSPLIT|NOFRAME,$0
	// CurrentEL, bits 3:2: the exception level.
	MRS	CurrentEL, R0
	UBFX	$2, R0, $2, R0
	CMP	$1, R0
	BEQ	el1
	CMP	$2, R0
	BNE	wrongEL

	// EL2: run the kernel at EL1 with nothing trapped to EL2 and no
	// stage 2 translation (register fields: see cpu.go). The EL2
	// registers are written with WORD: the Go assembler does not name
	// them.
	MOVD	$const_HCR_EL2_RW, R0
	WORD	$0xd51c1100	// MSR HCR_EL2, X0
	MOVD	$const_CPTR_EL2_RES1, R0
	WORD	$0xd51c1140	// MSR CPTR_EL2, X0
	WORD	$0xd53ce100	// MRS X0, CNTHCTL_EL2
	ORR	$(const_CNTHCTL_EL2_EL1PCTEN|const_CNTHCTL_EL2_EL1PCEN), R0
	WORD	$0xd51ce100	// MSR CNTHCTL_EL2, X0
	WORD	$0xd51ce07f	// MSR CNTVOFF_EL2, XZR
	MOVD	$const_SCTLR_EL1_RES1, R0
	MSR	R0, SCTLR_EL1
	MOVD	$const_SPSR_EL1h_MASKED, R0
	WORD	$0xd51c4000	// MSR SPSR_EL2, X0
	MOVD	$cpuinitEL1(SB), R0
	WORD	$0xd51c4020	// MSR ELR_EL2, X0
	ISB	$15
	ERET

el1:
	B	cpuinitEL1(SB)

wrongEL:
	// EL3: QEMU was started with secure=on.
	MOVD	$wrongELMsg<>(SB), R1
	MOVD	$const_PL011_BASE, R2
puts:
	MOVBU.P	1(R1), R3
	CBZ	R3, done
	MOVW	R3, (R2)
	B	puts
done:
	// Exit with ExceptionExitCode through semihosting, if it is on
	// (semihosting works at any exception level); otherwise the HLT
	// traps to EL3 vectors nobody set up: wait, with the message on the
	// console.
	MOVD	$const_SYS_EXIT_EXTENDED, R0
	MOVD	$wrongELExit<>(SB), R1
	HLT	$0xf000
halt:
	WFE
	B	halt

DATA wrongELExit<>+0(SB)/8, $const_ADP_Stopped_ApplicationExit
DATA wrongELExit<>+8(SB)/8, $const_ExceptionExitCode
GLOBL wrongELExit<>(SB), NOPTR, $16

DATA wrongELMsg<>+0(SB)/8, $"virt: en"
DATA wrongELMsg<>+8(SB)/8, $"tered at"
DATA wrongELMsg<>+16(SB)/8, $" EL3: ru"
DATA wrongELMsg<>+24(SB)/8, $"n withou"
DATA wrongELMsg<>+32(SB)/8, $"t secure"
DATA wrongELMsg<>+40(SB)/8, $"=on\n\x00\x00\x00\x00"
GLOBL wrongELMsg<>(SB), RODATA, $48

// cpuinitEL1 sets up the processor at EL1 and enters the runtime.
TEXT cpuinitEL1(SB),NOSPLIT|NOFRAME,$0
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
