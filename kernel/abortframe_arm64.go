//go:build tamago && arm64

package kernel

// abortFrame is the frame abortEntry (fault_arm64.s) saves on the fault
// stack. Its field offsets are the F_* constants and FRAME of
// fault_arm64.h, generated from this type (go generate ./kernel: gen_fault_arm64.go
// type-checks this file with the arm64 sizes); the assembly never spells
// an offset itself.
type abortFrame struct {
	ELR, SPSR  uint64        // F_ELR: ELR_EL1, SPSR_EL1
	FPCR, FPSR uint64        // F_FPCR
	X          [29]uint64    // F_X2: X2..X30 (F_X30: X30)
	From       uint64        // F_FROM: 0 entry 0 (SP_EL0), 1 entry 4 (SP_EL1)
	Q          [32][2]uint64 // F_Q: Q0..Q31
	X0, X1     uint64        // F_X0: saved below SP by entry 0, before the frame exists
}
