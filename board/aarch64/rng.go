//go:build tamago && arm64

package aarch64

import _ "unsafe"

// Random numbers: the RNDR register of FEAT_RNG (Arm ARM, RNDR register
// description; ID_AA64ISAR0_EL1.RNDR, bits 63:60, is non-zero when it
// exists), which QEMU's -cpu max has (the i.MX 8M Plus's Cortex-A53, an
// Armv8.0-A core, has not). Without it, a xorshift generator seeded from
// RNGSeed (virt: the device tree's /chosen rng-seed, 32 bytes from the
// host) and the counter: good enough for hash seeds, not for cryptography.
const ID_AA64ISAR0_EL1_RNDR_SHIFT = 60

// In rng_arm64.s.
func read_id_aa64isar0() uint64

// rndr returns a random number, ok false when the hardware had none
// ready (PSTATE.Z set).
func rndr() (v uint64, ok bool)

// RNGSeed seeds the generator when there is no RNDR: the board sets it
// in Hwinit0 (before the runtime initializes its random state).
var RNGSeed []byte

var rng struct {
	hw    bool
	state uint64
}

//go:linkname initRNG runtime/goos.InitRNG
func initRNG() {
	if read_id_aa64isar0()>>ID_AA64ISAR0_EL1_RNDR_SHIFT&0xf != 0 {
		rng.hw = true
		return
	}
	s := Counter() | 1
	seed := RNGSeed
	for i := 0; i+8 <= len(seed); i += 8 {
		for _, b := range seed[i : i+8] {
			s = s<<8 | s>>56 ^ uint64(b)
		}
		s = next64(s)
	}
	if s == 0 {
		s = 1
	}
	rng.state = s
}

// next64 is one xorshift64 step (Marsaglia, "Xorshift RNGs", 2003).
func next64(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

//go:linkname getRandomData runtime/goos.GetRandomData
func getRandomData(b []byte) {
	for len(b) > 0 {
		var v uint64
		if rng.hw {
			var ok bool
			for v, ok = rndr(); !ok; v, ok = rndr() {
			}
		} else {
			rng.state = next64(rng.state)
			v = rng.state
		}
		for i := 0; i < 8 && len(b) > 0; i++ {
			b[0] = byte(v)
			v >>= 8
			b = b[1:]
		}
	}
}
