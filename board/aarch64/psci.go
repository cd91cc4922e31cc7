//go:build tamago && arm64

package aarch64

// PSCI, the Power State Coordination Interface (Arm DEN 0022): Exit
// switches the machine off with SYSTEM_OFF. QEMU's virt machine implements
// it itself, reached with HVC, or SMC when EL2 is on (its device tree's
// /psci method says which); on the i.MX 8M Plus TF-A's BL31 serves it at
// EL3, reached with SMC.
const (
	// PSCI_SYSTEM_OFF is the PSCI function ID (SMC32 calling convention).
	PSCI_SYSTEM_OFF = 0x84000008
)

// PSCISMC selects the PSCI conduit: SMC if true, else HVC. The board sets
// it (virt from its device tree, in Hwinit0: a plain bool store).
var PSCISMC bool

// psciCall makes PSCI call fn through SMC if smc, else HVC
// (psci_arm64.s).
//
//go:nosplit
func psciCall(fn uint64, smc bool) uint64
