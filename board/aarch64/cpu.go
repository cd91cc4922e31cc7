//go:build tamago && arm64

package aarch64

// Processor set-up done by cpuinit (cpu_arm64.s) before the runtime
// starts: register fields as named in the Arm ARM (DDI 0487), each in its
// register's description ("AArch64 System Register Descriptions", D19.2
// General system control registers, as cited by the mmu package).
const (
	// Entry at EL2 (virtualization=on): the kernel drops to EL1.
	HCR_EL2_RW           = 1 << 31    // EL1 is AArch64; all other traps and stage 2 off
	CPTR_EL2_RES1        = 0x33ff     // bits 13:12 and 9:0 RES1; TFP (bit 10) 0: FP not trapped
	CNTHCTL_EL2_EL1PCTEN = 1 << 0     // EL1 may read the physical counter
	CNTHCTL_EL2_EL1PCEN  = 1 << 1     // EL1 may use the physical timer
	SCTLR_EL1_RES1       = 0x30d00800 // bits 29, 28, 23, 22, 20, 11 (Armv8.0); little-endian, MMU off
	SPSR_EL1h_MASKED     = 0x3c5      // M = EL1h (0b0101), D, A, I, F masked

	// Entry at EL3 (secure=on): the kernel acts as the firmware and
	// drops to Non-secure EL2 or EL1 (SCR_EL3: NS, lower levels
	// Non-secure; RW, they are AArch64; HCE, HVC enabled, with EL2).
	SCR_EL3_NS                = 1 << 0
	SCR_EL3_HCE               = 1 << 8
	SCR_EL3_RW                = 1 << 10
	SPSR_EL2h_MASKED          = 0x3c9 // M = EL2h (0b1001), D, A, I, F masked
	ID_AA64PFR0_EL1_EL2_SHIFT = 8     // EL2, bits 11:8: 0 if EL2 is not implemented
	ID_AA64PFR0_EL1_GIC_SHIFT = 24    // GIC, bits 27:24: non-zero with a GICv3 System register interface
	// ICC_SRE_EL2_SRE_ENABLE: SRE (bit 0) and Enable (bit 3, EL1 may
	// use ICC_SRE_EL1) of ICC_SRE_EL2 (IHI 0069H 12.2).
	ICC_SRE_EL2_SRE_ENABLE = 1<<0 | 1<<3

	// CPACR_EL1.FPEN, bits 21:20: 0b11 traps no FP/SIMD instruction.
	CPACR_EL1_FPEN = 0b11 << 20

	// exceptionStackSize is the stack of the exception vectors (SP_EL1);
	// the runtime runs on SP_EL0.
	exceptionStackSize = 16 << 10
)

// exceptionStack is the SP_EL1 stack.
var exceptionStack [exceptionStackSize]byte

// Start is the shared start-up, entered from a board's cpuinit (assembly,
// before the runtime exists) with the board's parameters in R19-R23:
// cpu_arm64.s describes them. Go code never calls it.
func Start()
