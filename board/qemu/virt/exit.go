//go:build tamago && arm64

package virt

// Ending the machine. Semihosting (Arm "Semihosting for AArch32 and
// AArch64", version 2.0, operation SYS_EXIT_EXTENDED) reports a status:
// QEMU, given -semihosting-config enable=on,target=native, exits with it.
// Without semihosting the HLT is undefined; the exception vector skips it
// and the machine is switched off through PSCI (Arm DEN 0022, function
// SYSTEM_OFF), which QEMU ends with status 0 whatever the code was.
const (
	// SYS_EXIT_EXTENDED is the semihosting operation number (in W0).
	SYS_EXIT_EXTENDED = 0x20
	// ADP_Stopped_ApplicationExit is the exit reason whose subcode is
	// the status (semihosting, SYS_EXIT reason codes).
	ADP_Stopped_ApplicationExit = 0x20026

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

// In exit_arm64.s.

// semihostingCall makes semihosting call op with parameter block param.
//
//go:nosplit
func semihostingCall(op uint64, param *[2]uint64) uint64

// psciCall makes PSCI call fn through SMC if smc, else HVC.
//
//go:nosplit
func psciCall(fn uint64, smc bool) uint64

// maskInterrupts sets PSTATE.{D,A,I,F}.
//
//go:nosplit
func maskInterrupts()

// semihostingFailed is set by the exception vector when the semihosting
// HLT was undefined (semihosting is off).
var semihostingFailed uint32

// semihostingExit is the parameter block of SYS_EXIT_EXTENDED (two
// 64-bit fields on AArch64).
var semihostingExit [2]uint64

// Exit ends the machine with status code (runtime/goos.Exit). Under QEMU
// with semihosting enabled the process exits with status code&0xff.
// Without semihosting the status is lost: a non-zero code is reported on
// the console and QEMU, switched off through PSCI, exits with 0. If
// neither works the processor waits forever with interrupts masked.
//
// It is nosplit and allocates nothing: the exception vector calls it.
//
//go:nosplit
func Exit(code int32) {
	maskInterrupts()
	semihostingExit[0] = ADP_Stopped_ApplicationExit
	semihostingExit[1] = uint64(uint32(code))
	semihostingCall(SYS_EXIT_EXTENDED, &semihostingExit)
	if code != 0 {
		puts("virt: semihosting is off (-semihosting-config enable=on,target=native): exit status ")
		putDec(uint64(uint32(code)))
		puts(" lost\n")
	}
	psciCall(PSCI_SYSTEM_OFF, psciSMC)
	for {
		wfe()
	}
}
