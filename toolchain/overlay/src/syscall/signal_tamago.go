// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package syscall

// signalSelf queues signal sig for os/signal and reports whether a
// receiver wanted it (runtime, sigqueue_tamago.go).
func signalSelf(sig uint32) bool

// nsig is the number of signals (the runtime's _NSIG, os/signal's numSig).
const nsig = 65

// Kill sends signal signum to process pid. The only process is this
// program (pid Getpid(); 0 and -1 name it too): the signal goes to the
// channels os/signal.Notify registered for it. A SIGKILL, or a SIGINT,
// SIGQUIT or SIGTERM that nobody receives, ends the program with exit
// status 2, as an unhandled terminating signal ends a Go program on Unix;
// other unreceived signals are ignored. Signal 0 checks only that pid
// exists. Another pid is ESRCH; a signal number out of range is EINVAL.
func Kill(pid int, signum Signal) error {
	if pid != Getpid() && pid != 0 && pid != -1 {
		return ESRCH
	}
	if signum < 0 || signum >= nsig {
		return EINVAL
	}
	if signum == 0 {
		return nil
	}
	if signum != SIGKILL && signalSelf(uint32(signum)) {
		return nil
	}
	switch signum {
	case SIGKILL, SIGINT, SIGQUIT, SIGTERM:
		print(signum.String(), "\n")
		Exit(2)
	}
	return nil
}
