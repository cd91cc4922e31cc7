package virt

import "github.com/pagesnap/pagesnap/board/aarch64"

// Exit statuses (aarch64.Exit; this file has no build constraint: host
// code uses the constants).
const (
	RuntimeFatalExitCode = aarch64.RuntimeFatalExitCode
	ExceptionExitCode    = aarch64.ExceptionExitCode
)
