//go:build tamago

package snapshot

import "github.com/pagesnap/pagesnap/mmu"

// The bare-metal implementations satisfy the engine's interfaces.
var (
	_ PhysMem = mmu.Direct{}
	_ TLB     = mmu.TLB{}
)
