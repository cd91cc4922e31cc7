//go:build tamago && amd64

package kernel

import (
	"errors"
	"fmt"
)

// The processor's extended state (x87, SSE, AVX) that pagesnap's interrupt
// entries save and restore around the Go code they call (fault_amd64.s,
// tick_amd64.s). The runtime's entry enables the XSAVE feature set with the
// AVX state when the processor has both (the toolchain's
// _rt0_tamago_start: CR4.OSXSAVE, XCR0 = x87|SSE|AVX), so that Go's
// memmove and crypto use AVX; the entries then save the full enabled state
// with XSAVE, since FXSAVE leaves the upper halves of the YMM registers
// out. Without CR4.OSXSAVE they keep FXSAVE.
const (
	// CR4_OSXSAVE is CR4 bit 18, XSAVE and processor extended states
	// enabled (Intel SDM Vol. 3A 2.5).
	CR4_OSXSAVE = 1 << 18

	// XCR0 state components (Intel SDM Vol. 3A 2.6; Vol. 1 13.1).
	XCR0_X87 = 1 << 0
	XCR0_SSE = 1 << 1
	XCR0_AVX = 1 << 2

	// CPUID_XSAVE is the leaf enumerating the XSAVE features: with
	// ECX = 0, EBX is the size of the XSAVE area for the state components
	// XCR0 enables (Intel SDM Vol. 1 13.2).
	CPUID_XSAVE = 0x0d

	// XSAVE_AREA is the XSAVE area the entries reserve on their stacks:
	// the legacy region (512 bytes), the XSAVE header (64) and the AVX
	// state (256) in the standard format (Intel SDM Vol. 1 13.4, 13.5.3).
	// The stack frames' XAREA (fault_amd64.s, tick_amd64.s) hold it,
	// 64-byte aligned as XSAVE requires.
	XSAVE_AREA = 512 + 64 + 256
	// XSAVE_HEADER is the offset of the XSAVE header in the area; the
	// entries zero it before each XSAVE, so that XRSTOR finds XCOMP_BV
	// and the reserved bytes zero (Intel SDM Vol. 1 13.4.2, 13.8).
	XSAVE_HEADER = 512
)

// xsaveOn is 1 when the entries use XSAVE/XRSTOR, 0 for FXSAVE/FXRSTOR
// (read by fault_amd64.s and tick_amd64.s; set by initXSAVE before the
// gates are installed, never changed afterwards).
var xsaveOn uint8

// readCR4 returns CR4 (cpu_amd64.s).
//
//go:nosplit
func readCR4() uint64

// xgetbv returns XCR0 (cpu_amd64.s); only valid with CR4.OSXSAVE set.
//
//go:nosplit
func xgetbv() uint64

// cpuid executes CPUID (cpu_amd64.s).
//
//go:nosplit
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// initXSAVE chooses how the interrupt entries save the extended state:
// XSAVE when CR4.OSXSAVE is set, after checking that the area for the
// enabled components fits XSAVE_AREA and that every stack top the entries
// start from is 64-byte aligned (their frames' offsets assume it).
func initXSAVE(stackTops ...uint64) error {
	for _, t := range stackTops {
		if t%64 != 0 {
			return fmt.Errorf("xsave: interrupt stack top %#x is not 64-byte aligned", t)
		}
	}
	if readCR4()&CR4_OSXSAVE == 0 {
		xsaveOn = 0
		return nil
	}
	if xcr0 := xgetbv(); xcr0&^(XCR0_X87|XCR0_SSE|XCR0_AVX) != 0 {
		return fmt.Errorf("xsave: XCR0 %#x enables state beyond x87|SSE|AVX", xcr0)
	}
	if _, size, _, _ := cpuid(CPUID_XSAVE, 0); size > XSAVE_AREA {
		return errors.New("xsave: the enabled state's XSAVE area is larger than XSAVE_AREA")
	}
	xsaveOn = 1
	return nil
}

// ExtendedState names how the interrupt entries save the processor's
// extended state: "XSAVE XCR0=0x7 (832 bytes)" or "FXSAVE".
func ExtendedState() string {
	if xsaveOn == 0 {
		return "FXSAVE"
	}
	_, size, _, _ := cpuid(CPUID_XSAVE, 0)
	return fmt.Sprintf("XSAVE XCR0=%#x (%d bytes)", xgetbv(), size)
}

// ymmProbe is CheckExtendedState's handler-side work: while armed, the
// tick handler copies src to dst, a size for which the runtime's memmove
// takes its AVX loop (257 to 2047 bytes; larger aligned copies may use
// REP MOVSB), which uses YMM registers and ends with VZEROUPPER, clearing
// the upper half of every YMM register: Go code an interrupt runs using
// AVX, as memmove and crypto do once XCR0 enables it.
var ymmProbe probe

type probe struct {
	armed    uint8 // set and cleared by ymmAcrossTick, interrupts off
	copies   uint64
	src, dst [1024]byte
}

// clobber is the probe's work in the tick handler: nosplit, no
// allocation, no pointers stored (the handler's rules).
//
//go:nosplit
func (p *probe) clobber() {
	copy(p.dst[:], p.src[:])
	p.copies++
}

// ymmAcrossTick (xsave_amd64.s) loads the 16 YMM registers from in (the
// 16 XMM registers, with SSE, when xsaveOn is 0: no AVX), arms
// the probe with the entries' save mode xsave (1: XSAVE, 0: FXSAVE),
// waits with interrupts on until the tick count at ticks changes or spin
// iterations pass, then stores the registers to out and puts mode and
// probe back. It returns false on timeout. Interrupts are off while the
// mode differs from xsaveOn's own value except during the wait, which only
// the tick and device entries interrupt (both read the mode with
// interrupts off, at entry and exit); no other goroutine runs meanwhile
// (an assembly function is no asynchronous preemption point).
//
//go:noescape
func ymmAcrossTick(in, out *[16][32]byte, ticks *uint64, xsave uint8, spin uint64) bool

// CheckExtendedState checks that the interrupt entries keep the
// interrupted code's YMM registers when the handler uses AVX: it sets the
// 16 YMM registers, waits for a tick whose handler runs memmove's AVX
// loop, and compares them afterwards. With XSAVE on it checks the
// registers twice: as the entries save them (XSAVE: unchanged) and with
// the entries forced to FXSAVE (the upper halves must be lost: this proves
// the handler really clobbers them). Without XSAVE it checks that the
// FXSAVE path keeps XMM0-15, which the handler's memmove (SSE loop then)
// overwrites. The tick must be running. It returns
// a description of what was checked.
func CheckExtendedState() (string, error) {
	var in, out [16][32]byte
	for r := range in {
		for b := range in[r] {
			in[r][b] = byte(0x5a ^ r*17 ^ b*3)
		}
	}
	for i := range ymmProbe.src {
		ymmProbe.src[i] = byte(i)
	}
	const spin = 1 << 30 // ~3e9 instructions: 3 s under -icount shift=0
	run := func(mode uint8) error {
		before := ymmProbe.copies
		out = [16][32]byte{}
		if !ymmAcrossTick(&in, &out, &tickState.count, mode, spin) {
			return errors.New("no tick within the wait")
		}
		if ymmProbe.copies == before {
			return errors.New("the tick handler did not run the probe")
		}
		return nil
	}
	lower := func() error {
		for r := range in {
			if [16]byte(in[r][:16]) != [16]byte(out[r][:16]) {
				return fmt.Errorf("XMM%d changed across the tick: % x, want % x", r, out[r][:16], in[r][:16])
			}
		}
		return nil
	}
	if xsaveOn == 0 {
		if err := run(0); err != nil {
			return "", err
		}
		return "FXSAVE (no CR4.OSXSAVE): XMM0-15 kept across a tick", lower()
	}
	if err := run(1); err != nil {
		return "", err
	}
	for r := range in {
		if in[r] != out[r] {
			return "", fmt.Errorf("XSAVE: YMM%d changed across a tick whose handler uses AVX: % x, want % x", r, out[r], in[r])
		}
	}
	if err := run(0); err != nil {
		return "", err
	}
	if err := lower(); err != nil {
		return "", fmt.Errorf("FXSAVE control: %w", err)
	}
	lost := 0
	for r := range in {
		if [16]byte(in[r][16:]) != [16]byte(out[r][16:]) {
			lost++
		}
	}
	if lost == 0 {
		return "", errors.New("FXSAVE control: every YMM upper half survived the tick: the probe does not clobber them, so the XSAVE check proves nothing")
	}
	return fmt.Sprintf("%s: YMM0-15 kept across a tick whose handler ran AVX code; with FXSAVE instead %d of 16 upper halves were lost", ExtendedState(), lost), nil
}
