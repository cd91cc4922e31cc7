//go:build tamago

package mmu

// avxCopy is 1 when copyWords may copy with AVX (read by copy_tamago_amd64.s).
var avxCopy uint8

// UseAVX lets the page copy (Direct.Copy: the write-fault path and the
// drain) use AVX registers, or not. The kernel calls it once at start-up,
// before any snapshot, with on only if the processor has AVX, its state is
// enabled (CR4.OSXSAVE, XCR0) and every fault and interrupt entry saves
// that state (XSAVE): the kernel knows all three, this package none.
// Without it the copy uses REP MOVSQ.
func UseAVX(on bool) {
	avxCopy = 0
	if on {
		avxCopy = 1
	}
}
