//go:build tamago

package mmu

// avxCopy is 1 when copyWords may copy with AVX (read by copy_tamago_amd64.s):
// the kernel enabled AVX (XCR0) before this package's initialization.
var avxCopy = func() uint8 {
	if osAVX() {
		return 1
	}
	return 0
}()

// osAVX reports whether the processor has AVX and the kernel enabled it.
func osAVX() bool
