// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build arm64 && tamago

package cpu

func osInit() {
	// GOOS=tamago runs at EL1, where ID_AA64ISAR0_EL1 and ID_AA64PFR0_EL1
	// are readable (Arm ARM DDI 0487, their register descriptions).
	parseARM64SystemRegisters(getisar0(), getpfr0())
}
