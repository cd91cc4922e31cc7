// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "textflag.h"

// CPUInit hands control to the CPU package's cpuinit, which sets up the
// processor (paging, stack) and enters the runtime at _rt0_tamago_start.
TEXT ·CPUInit(SB),NOSPLIT|NOFRAME,$0
	JMP	cpuinit(SB)
