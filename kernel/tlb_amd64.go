//go:build tamago && amd64

package kernel

// TLB invalidates translations on this processor (Intel SDM Vol. 3A 4.10.4:
// INVLPG for one page, a CR3 reload for all non-global entries; pagesnap's
// tables have no global entries). Methods are nosplit: fault path.
type TLB struct{}

// InvalidatePage drops the translations of the page at va.
//
//go:nosplit
func (TLB) InvalidatePage(va uint64) { invlpg(va) }

// InvalidateAll drops every translation.
//
//go:nosplit
func (TLB) InvalidateAll() { flushTLB() }
