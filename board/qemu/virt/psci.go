//go:build tamago && arm64

package virt

// PSCI, the Power State Coordination Interface (Arm DEN 0022): QEMU's virt
// machine implements it itself, reached with HVC, or SMC when EL2 is on
// (the device tree's /psci method says which).
const (
	// PSCI_SYSTEM_OFF is the PSCI function ID (SMC32 calling convention).
	PSCI_SYSTEM_OFF = 0x84000008
)

// psciSMC selects the PSCI conduit, from the device tree's /psci method:
// SMC ("smc", QEMU with virtualization=on) or HVC ("hvc", the default).
var psciSMC bool

// initPSCI reads the PSCI conduit from the device tree.
//
//go:nosplit
func initPSCI() {
	f, err := parseFDT(physPointer(DTBAddress), DTBMaxSize)
	if err != fdtOK {
		return
	}
	if m, ok := f.property("psci", "method"); ok {
		psciSMC = equal(cstring(m), "smc")
	}
}

// psciCall makes PSCI call fn through SMC if smc, else HVC
// (psci_arm64.s).
//
//go:nosplit
func psciCall(fn uint64, smc bool) uint64
