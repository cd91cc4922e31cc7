// Package swapped must not compile: it passes a physical address where
// Map takes the virtual one (mmu's TestSwappedAddressesDoNotCompile).
package swapped

import "github.com/pagesnap/pagesnap/mmu"

func mapSwapped(t *mmu.Tables, va mmu.VA, pa mmu.PA) error {
	return t.Map(pa, va, 4096, 4096, 0)
}
