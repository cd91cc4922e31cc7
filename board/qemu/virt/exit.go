//go:build tamago && arm64

package virt

// Ending the machine. Semihosting (Arm "Semihosting for AArch32 and
// AArch64", version 2.0, 6.5 SYS_EXIT_EXTENDED) reports a status: QEMU,
// given -semihosting-config enable=on,target=native, exits with it. Without
// semihosting the HLT is undefined; the exception vector skips it and the
// machine is switched off through PSCI (Arm DEN 0022, 5.1.9 SYSTEM_OFF),
// which QEMU ends with status 0 whatever the code was.
const (
	// SYS_EXIT_EXTENDED is the semihosting operation number (in W0).
	SYS_EXIT_EXTENDED = 0x20
	// ADP_Stopped_ApplicationExit is the exit reason whose subcode is
	// the status (semihosting 6.4, Table 6-2).
	ADP_Stopped_ApplicationExit = 0x20026

	// PSCI_SYSTEM_OFF is the PSCI function ID (SMC32 calling convention).
	PSCI_SYSTEM_OFF = 0x84000008
)

// Exit, in exit_arm64.s, ends the machine with the status code: under
// QEMU with semihosting enabled the process exits with status code&0xff;
// without it the status is lost and QEMU exits with status 0. If neither
// works the processor waits forever with interrupts masked.
//
//go:nosplit
func Exit(code int32)

// semihostingCall is the semihosting trap, in exit_arm64.s.
func semihostingCall()

// semihostingFailed is set by the exception vector when the semihosting
// HLT was undefined (semihosting is off).
var semihostingFailed uint32

// semihostingExit is the parameter block of SYS_EXIT_EXTENDED (two
// 64-bit fields on AArch64).
var semihostingExit [2]uint64
