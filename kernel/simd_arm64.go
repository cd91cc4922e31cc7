//go:build tamago && arm64

package kernel

import "strings"

// ID_AA64ISAR0_EL1 fields Go's internal/cpu reads for its cryptographic
// instructions (Arm ARM DDI 0487, D19.2.61 ID_AA64ISAR0_EL1): AES [7:4],
// SHA1 [11:8], SHA2 [15:12] (1: SHA256H, SHA256H2, SHA256SU0/1).
const (
	ID_AA64ISAR0_AES  = 4
	ID_AA64ISAR0_SHA1 = 8
	ID_AA64ISAR0_SHA2 = 12
)

// ISAR0 returns ID_AA64ISAR0_EL1, the instruction set attributes
// (Arm ARM D19.2.61; simd_arm64.s).
//
//go:nosplit
func ISAR0() uint64

// SIMDFeatures lists the cryptographic instructions Go's packages can use
// on this processor, as internal/cpu reads them: "aes", "sha1", "sha2"
// (crypto/sha256 uses the SHA2 instructions), or "none".
func SIMDFeatures() string {
	r := ISAR0()
	var f []string
	for _, x := range []struct {
		shift int
		name  string
	}{{ID_AA64ISAR0_AES, "aes"}, {ID_AA64ISAR0_SHA1, "sha1"}, {ID_AA64ISAR0_SHA2, "sha2"}} {
		if r>>x.shift&0xf != 0 {
			f = append(f, x.name)
		}
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, "+")
}
