// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago && arm64

package runtime

// cputicks returns nanotime: the board's clock (the Arm generic timer) is
// what a CPU tick counter would be read from anyway, and the profiler and
// the scheduler only need a monotonic, roughly proportional count.
//
//go:nosplit
func cputicks() int64 {
	return nanotime()
}
