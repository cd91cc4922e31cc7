//go:build tamago

package kernel

import "github.com/pagesnap/pagesnap/mmu"

// PhysMem is physical memory through the identity map (nosplit,
// allocation free and lock free: the fault path uses it).
type PhysMem = mmu.Direct

// TLB invalidates this processor's translations (fault path too).
type TLB = mmu.TLB
