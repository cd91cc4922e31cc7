//go:build tamago && amd64

package kernel

import "encoding/binary"

// FW_CFG_NB_CPUS is the fw_cfg item holding the number of CPUs QEMU
// starts (a little-endian uint16; QEMU docs/specs/fw_cfg.rst, "Selector
// Register"; microvm and pc both provide it).
const FW_CFG_NB_CPUS = 0x0005

// CPUCount returns the number of processors the machine has online, from
// fw_cfg.
func CPUCount() (int, error) {
	var sig [4]byte
	fwcfgRead(FW_CFG_SIGNATURE, sig[:])
	if string(sig[:]) != "QEMU" {
		return 0, ErrNoFwCfg
	}
	var b [2]byte
	fwcfgRead(FW_CFG_NB_CPUS, b[:])
	return int(binary.LittleEndian.Uint16(b[:])), nil
}
