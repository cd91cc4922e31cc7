//go:build tamago && arm64

package pagesnap

// Platform holds the board's devices pagesnap drives itself: none on arm64
// (the generic timer and the GIC are the virt board's, started by the
// kernel).
type Platform struct{}

func (p Platform) install() {}
