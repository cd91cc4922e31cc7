//go:build tamago

#include "textflag.h"

// MRS/MSR of op0 = 3 registers: 0xd5380000 (MRS) or 0xd5180000 (MSR) |
// op1<<16 | CRn<<12 | CRm<<8 | op2<<5 | Rt (Arm ARM C6.2 MRS, MSR).

// func readICC_SRE_EL1() uint64
TEXT ·readICC_SRE_EL1(SB),NOSPLIT,$0-8
	WORD	$0xd538cca0	// MRS X0, ICC_SRE_EL1 (op1 0, C12, C12, op2 5)
	MOVD	R0, ret+0(FP)
	RET

// func writeICC_SRE_EL1(v uint64)
TEXT ·writeICC_SRE_EL1(SB),NOSPLIT,$0-8
	MOVD	v+0(FP), R0
	WORD	$0xd518cca0	// MSR ICC_SRE_EL1, X0
	ISB	$15
	RET

// func writeICC_PMR_EL1(v uint64)
TEXT ·writeICC_PMR_EL1(SB),NOSPLIT,$0-8
	MOVD	v+0(FP), R0
	WORD	$0xd5184600	// MSR ICC_PMR_EL1, X0 (op1 0, C4, C6, op2 0)
	ISB	$15
	RET

// func writeICC_IGRPEN1_EL1(v uint64)
TEXT ·writeICC_IGRPEN1_EL1(SB),NOSPLIT,$0-8
	MOVD	v+0(FP), R0
	WORD	$0xd518cce0	// MSR ICC_IGRPEN1_EL1, X0 (op1 0, C12, C12, op2 7)
	ISB	$15
	RET

// func readICC_IAR1_EL1() uint64
TEXT ·readICC_IAR1_EL1(SB),NOSPLIT,$0-8
	WORD	$0xd538cc00	// MRS X0, ICC_IAR1_EL1 (op1 0, C12, C12, op2 0)
	MOVD	R0, ret+0(FP)
	RET

// func writeICC_EOIR1_EL1(v uint64)
TEXT ·writeICC_EOIR1_EL1(SB),NOSPLIT,$0-8
	MOVD	v+0(FP), R0
	WORD	$0xd518cc20	// MSR ICC_EOIR1_EL1, X0 (op1 0, C12, C12, op2 1)
	ISB	$15
	RET

// func readMPIDR() uint64
TEXT ·readMPIDR(SB),NOSPLIT,$0-8
	MRS	MPIDR_EL1, R0
	MOVD	R0, ret+0(FP)
	RET
