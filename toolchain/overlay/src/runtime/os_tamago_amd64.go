// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago && amd64

package runtime

import (
	"internal/abi"
	"unsafe"
)

// tickPushCall makes the interrupted context call asyncPreempt as if the
// instruction at resumePC had called it (pushCall in signal_amd64.go):
// the return address is pushed on the goroutine's stack. lr and fp are
// not used on amd64. See TickPreempt.
//
//go:nosplit
func tickPushCall(pc, sp, lr, fp *uint64, resumePC uintptr, prepareWrite func(addr uint64) bool) bool {
	s := *sp - 8
	if prepareWrite != nil && !prepareWrite(s) {
		return false
	}
	*(*uint64)(unsafe.Pointer(uintptr(s))) = uint64(resumePC)
	*sp = s
	*pc = uint64(abi.FuncPCABI0(asyncPreempt))
	return true
}
