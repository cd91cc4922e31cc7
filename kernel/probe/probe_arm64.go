//go:build tamago && arm64

package probe

import (
	"errors"
	"unsafe"

	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// writeProbe stores v to addr with known values in every general-purpose
// register it may use and in every SIMD register, and returns how many of
// them changed across the store (probe_arm64.s).
//
//go:noescape
func writeProbe(addr, v uint64) (changed uint64)

// probePage holds the page Run stores to: nothing else touches it,
// so a snapshot's Start leaves it write-protected until the probe.
var probePage [2 << 12]byte

// Result is what Run observed.
type Result struct {
	// Protected: the page was write-protected before the store;
	// Writable: it was writable after it (the fault handler copied and
	// released it: nothing else runs in between).
	Protected, Writable bool
	// Stored: the word holds the stored value afterwards.
	Stored bool
	// Changed is the number of registers (of X0-X17, X19-X26 and the
	// 64 halves of V0-V31) whose value the store changed: 0 unless the
	// write fault handler lost some of the interrupted context.
	Changed uint64
	// Faults is the number of write faults the snapshot counted across
	// the probe (the probe's store, and any on the stack).
	Faults uint64
}

// ErrNotCapturing means Run needs a snapshot in its capture phase.
var ErrNotCapturing = errors.New("probe: no snapshot is capturing")

// Run tests the write fault path of the snapshot c is capturing:
// one store to a write-protected page, with every register the store's
// code may use holding a known value. Call it right after Start, before
// the drain can reach the probe page.
func Run(c *kernel.Controller) (Result, error) {
	var r Result
	s := c.Snapshot()
	if s == nil || s.Phase() != snapshot.PhaseCapturing {
		return r, ErrNotCapturing
	}
	addr := (uint64(uintptr(unsafe.Pointer(&probePage[0]))) + 4095) &^ 4095
	v := 0x0123456789abcdef ^ s.Instant()
	w, err := c.M.Tables.Walk(mmu.VA(addr))
	if err != nil {
		return r, err
	}
	r.Protected = !w.Writable
	f0 := s.Stats().Faults
	r.Changed = writeProbe(addr, v)
	r.Faults = s.Stats().Faults - f0
	if w, err = c.M.Tables.Walk(mmu.VA(addr)); err != nil {
		return r, err
	}
	r.Writable = w.Writable
	r.Stored = kernel.PhysMem{}.Load64(addr) == v
	return r, nil
}
