//go:build tamago && arm64

package aarch64

// Semihosting (Arm "Semihosting for AArch32 and AArch64", version 2.0):
// QEMU, given -semihosting-config enable=on,target=native, serves the
// calls; SYS_EXIT_EXTENDED ends it with a status. Without semihosting the
// trap instruction is undefined: the exception vector skips it.
const (
	// SYS_EXIT_EXTENDED is the semihosting operation number (in W0).
	SYS_EXIT_EXTENDED = 0x20
	// ADP_Stopped_ApplicationExit is the exit reason whose subcode is
	// the status (semihosting, SYS_EXIT reason codes).
	ADP_Stopped_ApplicationExit = 0x20026
)

// semihostingCall makes semihosting call op with parameter block param
// (semihosting_arm64.s).
//
//go:nosplit
func semihostingCall(op uint64, param *[2]uint64) uint64

// semihostingFailed is set by the exception vector when the semihosting
// HLT was undefined (semihosting is off).
var semihostingFailed uint32

// semihostingExit is the parameter block of SYS_EXIT_EXTENDED (two
// 64-bit fields on AArch64).
var semihostingExit [2]uint64
