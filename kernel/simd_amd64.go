//go:build tamago && amd64

package kernel

import "strings"

// CPUID feature bits Go's internal/cpu reads for its SIMD paths (Intel SDM
// Vol. 2A, CPUID, Table 3-10 and Table 3-8 leaf 07H).
const (
	CPUID1_ECX_AVX     = 1 << 28 // CPUID.01H:ECX.AVX
	CPUID1_ECX_OSXSAVE = 1 << 27 // CPUID.01H:ECX.OSXSAVE (CR4.OSXSAVE)
	CPUID7_EBX_AVX2    = 1 << 5  // CPUID.(EAX=07H,ECX=0):EBX.AVX2
	CPUID7_EBX_BMI2    = 1 << 8  // CPUID.(EAX=07H,ECX=0):EBX.BMI2
	CPUID7_EBX_SHA     = 1 << 29 // CPUID.(EAX=07H,ECX=0):EBX.SHA (SHA-NI)
)

// SIMDFeatures lists the SIMD features Go's packages can use on this
// processor, derived as internal/cpu derives them: "avx" and "avx2" need
// the CPUID bit, CR4.OSXSAVE and the SSE and AVX state in XCR0; "bmi2" and
// "sha" (SHA-NI) the CPUID bit. crypto/sha256 runs its AVX2 code with
// avx2 and bmi2, its SHA-NI code with sha and avx as well. "none" if none.
func SIMDFeatures() string {
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	osAVX := osAVXState(ecx1)
	var f []string
	if AVX() {
		f = append(f, "avx")
	}
	if osAVX && ebx7&CPUID7_EBX_AVX2 != 0 {
		f = append(f, "avx2")
	}
	if ebx7&CPUID7_EBX_BMI2 != 0 {
		f = append(f, "bmi2")
	}
	if ebx7&CPUID7_EBX_SHA != 0 {
		f = append(f, "sha")
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, "+")
}

// osAVXState reports whether the kernel enabled the AVX state: CR4.OSXSAVE
// (CPUID.01H:ECX.OSXSAVE, ecx1) and XCR0's SSE and AVX bits (SDM Vol. 1
// 14.3, "Detection of Intel AVX Instructions").
func osAVXState(ecx1 uint32) bool {
	return ecx1&CPUID1_ECX_OSXSAVE != 0 && xgetbv()&(XCR0_SSE|XCR0_AVX) == XCR0_SSE|XCR0_AVX
}

// AVX reports whether code may use AVX: the processor has it
// (CPUID.01H:ECX.AVX) and the kernel enabled its state. The one place the
// kernel decides it; Setup tells package mmu (mmu.UseAVX).
func AVX() bool {
	_, _, ecx1, _ := cpuid(1, 0)
	return ecx1&CPUID1_ECX_AVX != 0 && osAVXState(ecx1)
}
