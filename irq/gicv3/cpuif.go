//go:build tamago && arm64

package gicv3

import "errors"

// The CPU interface's System registers (IHI 0069H 12.2, "AArch64 System
// register descriptions of the GIC CPU interface"), in cpuif_arm64.s
// (encoded with WORD: the Go assembler does not name the ICC registers).
const (
	// ICC_SRE_ELx.SRE: the System register interface is in use (bit 0);
	// ICC_SRE_EL3 also has DFB (1), DIB (2) and Enable (3: lower ELs
	// may use ICC_SRE_EL1 and ICC_SRE_EL2).
	ICC_SRE_SRE = 1 << 0
	// ICC_IAR1_EL1_INTID is the acknowledged INTID (bits 23:0).
	ICC_IAR1_EL1_INTID = 0xffffff
	// ICC_PMR_ALL lets every priority through.
	ICC_PMR_ALL = 0xff
	// ICC_IGRPEN1_EL1_Enable enables Group 1 interrupts at this PE.
	ICC_IGRPEN1_EL1_Enable = 1
)

func readICC_SRE_EL1() uint64
func writeICC_SRE_EL1(v uint64)
func writeICC_PMR_EL1(v uint64)
func writeICC_IGRPEN1_EL1(v uint64)

// readICC_IAR1_EL1 acknowledges the highest-priority pending Group 1
// interrupt.
//
//go:nosplit
func readICC_IAR1_EL1() uint64

// writeICC_EOIR1_EL1 ends an interrupt (priority drop and deactivation:
// ICC_CTLR_EL1.EOImode is 0 from reset).
//
//go:nosplit
func writeICC_EOIR1_EL1(v uint64)

func readMPIDR() uint64

// initCPUInterface turns on the System register interface, unmasks every
// priority and enables Group 1.
func initCPUInterface() error {
	writeICC_SRE_EL1(readICC_SRE_EL1() | ICC_SRE_SRE)
	if readICC_SRE_EL1()&ICC_SRE_SRE == 0 {
		return errors.New("gicv3: ICC_SRE_EL1.SRE stays 0: the System register interface is disabled at a higher exception level (ICC_SRE_EL3.Enable)")
	}
	writeICC_PMR_EL1(ICC_PMR_ALL)
	writeICC_IGRPEN1_EL1(ICC_IGRPEN1_EL1_Enable)
	return nil
}
