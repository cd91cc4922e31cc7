//go:build tamago && arm64

package aarch64

// maskInterrupts sets PSTATE.{D,A,I,F} (exit_arm64.s).
//
//go:nosplit
func maskInterrupts()

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
		puts("aarch64: semihosting is off (-semihosting-config enable=on,target=native): exit status ")
		putDec(uint64(uint32(code)))
		puts(" lost\n")
	}
	psciCall(PSCI_SYSTEM_OFF, PSCISMC)
	for {
		wfe()
	}
}
