//go:build tamago && arm64

package pagesnap

import "github.com/pagesnap/pagesnap/kernel"

// Platform holds the board pagesnap takes its tick, RAM map and CPU count
// from on arm64.
type Platform struct {
	// Board is the board (e.g. virt.Board{}). Required: Open fails
	// without it.
	Board kernel.Board
}

func (p Platform) install() {
	if p.Board != nil {
		kernel.SetBoard(p.Board)
	}
}
