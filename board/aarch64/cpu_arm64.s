//go:build tamago

#include "go_asm.h"
#include "textflag.h"

// Start is the shared start-up of pagesnap's arm64 boards: the board's
// cpuinit (the first code to run: the ELF entry jumps there through
// runtime/goos.CPUInit) branches here with the MMU off and all exceptions
// masked, at EL1h, EL2h or EL3h, and the board's parameters in registers
// that Start keeps across the exception-level drops (no Go code runs
// before ERET to EL1, and gicv3.SecureInit clobbers R0-R5 only):
//
//	R19  GICD_BASE: the GIC distributor (used at EL3 only)
//	R20  the first redistributor, RD_base (GICv3, at EL3 only)
//	R21  the GICv2 CPU interface, GICC (at EL3 with a GICv2 only)
//	R22  the boot translation tables: 8 KiB, page-aligned (mmuinit)
//	R23  the board's early function (nosplit, no allocation: it sizes the
//	     runtime's memory), called at EL1 with the MMU on; 0 for none
TEXT ·Start(SB),NOSPLIT|NOFRAME,$0
	// CurrentEL, bits 3:2: the exception level.
	MRS	CurrentEL, R0
	UBFX	$2, R0, $2, R0
	CMP	$1, R0
	BEQ	el1
	CMP	$3, R0
	BEQ	el3
	B	·startEL2(SB)

el1:
	B	·startEL1(SB)

el3:
	// EL3 (secure=on): do what firmware does before it starts a
	// Non-secure kernel, then drop to Non-secure EL2 (if implemented,
	// continuing at cpuinitEL2) or EL1. The GIC's Secure side first: with a
	// GICv3 (ID_AA64PFR0_EL1.GIC) gicv3.SecureInit; with a GICv2 every
	// interrupt in Group 1 (GICD_IGROUPR<n>, n = 0 .. ITLinesNumber;
	// IGROUPR0 is this CPU's banked copy) and the priority mask open.
	MRS	ID_AA64PFR0_EL1, R0
	UBFX	$const_ID_AA64PFR0_EL1_GIC_SHIFT, R0, $4, R0
	CBZ	R0, el3gicv2
	MOVD	R19, R0
	MOVD	R20, R1
	BL	github·com∕pagesnap∕pagesnap∕irq∕gicv3·SecureInit(SB)
	B	el3drop
el3gicv2:
	MOVD	R19, R0
	MOVWU	const_GICD_TYPER(R0), R3
	AND	$0x1f, R3
	ADD	$1, R3
	MOVW	$0xffffffff, R4
	ADD	$const_GICD_IGROUPR, R0, R5
el3groups:
	MOVW	R4, (R5)
	ADD	$4, R5
	SUB	$1, R3
	CBNZ	R3, el3groups
	// GICC_PMR from the Secure side (gic.go says why).
	MOVD	R21, R0
	MOVW	$const_GIC_PMR_ALL, R2
	MOVW	R2, const_GICC_PMR(R0)
el3drop:
	WORD	$0xd51e115f	// MSR CPTR_EL3, XZR: FP/SIMD not trapped to EL3
	MOVD	$const_SCTLR_EL1_RES1, R0
	MSR	R0, SCTLR_EL1
	MRS	ID_AA64PFR0_EL1, R1
	UBFX	$const_ID_AA64PFR0_EL1_EL2_SHIFT, R1, $4, R1
	CBZ	R1, el3toEL1
	MOVD	$(const_SCR_EL3_NS|const_SCR_EL3_RW|const_SCR_EL3_HCE), R0
	WORD	$0xd51e1100	// MSR SCR_EL3, X0
	MOVD	$const_SPSR_EL2h_MASKED, R0
	WORD	$0xd51e4000	// MSR SPSR_EL3, X0
	MOVD	$·startEL2(SB), R0
	B	el3eret
el3toEL1:
	MOVD	$(const_SCR_EL3_NS|const_SCR_EL3_RW), R0
	WORD	$0xd51e1100	// MSR SCR_EL3, X0
	MOVD	$const_SPSR_EL1h_MASKED, R0
	WORD	$0xd51e4000	// MSR SPSR_EL3, X0
	MOVD	$·startEL1(SB), R0
el3eret:
	WORD	$0xd51e4020	// MSR ELR_EL3, X0
	ISB	$15
	ERET

// startEL2 drops from EL2 to EL1.
TEXT ·startEL2(SB),NOSPLIT|NOFRAME,$0
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
	// With a GICv3 (ID_AA64PFR0_EL1.GIC), let EL1 use its System
	// registers: ICC_SRE_EL2 = SRE | Enable.
	MRS	ID_AA64PFR0_EL1, R0
	UBFX	$const_ID_AA64PFR0_EL1_GIC_SHIFT, R0, $4, R0
	CBZ	R0, el2gicdone
	MOVD	$const_ICC_SRE_EL2_SRE_ENABLE, R0
	WORD	$0xd51cc9a0	// MSR ICC_SRE_EL2, X0 (op1 4, C12, C9, op2 5)
el2gicdone:
	MOVD	$const_SCTLR_EL1_RES1, R0
	MSR	R0, SCTLR_EL1
	MOVD	$const_SPSR_EL1h_MASKED, R0
	WORD	$0xd51c4000	// MSR SPSR_EL2, X0
	MOVD	$·startEL1(SB), R0
	WORD	$0xd51c4020	// MSR ELR_EL2, X0
	ISB	$15
	ERET

// startEL1 sets up the processor at EL1 and enters the runtime.
TEXT ·startEL1(SB),NOSPLIT|NOFRAME,$0
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

	MOVD	R22, R0
	BL	·mmuinit(SB)

	// The board's early function: it sizes the runtime's memory (sets
	// RamSize; on virt from the device tree).
	CBZ	R23, noearly
	SUB	$16, RSP
	CALL	(R23)
	ADD	$16, RSP
noearly:

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
