package aarch64

// Exit statuses. Under QEMU with -semihosting-config
// enable=on,target=native the process exits with the guest's status
// (Exit: code&0xff); without semihosting QEMU exits with 0 whatever the
// code (PSCI SYSTEM_OFF) and the console says the status was lost. This
// file has no build constraint: host code uses the constants.
const (
	// RuntimeFatalExitCode is the Go runtime's status after an
	// unrecovered panic or a fatal error.
	RuntimeFatalExitCode = 2
	// ExceptionExitCode is the status after an exception the board
	// cannot handle (reported on the console with its syndrome).
	ExceptionExitCode = 3
)
