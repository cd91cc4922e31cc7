// Package simimage makes real snapshot images on the host for tests of
// the tools that read them: package snapshot's engine snapshots a
// simulated machine (package snapshot/sim) whose memory the test fills.
// (qemu/internal/imagetest instead encodes images independently, from the
// documented layout, to cross-check the engine.)
package simimage

import (
	"fmt"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// Machine is a simulated machine with captured ranges below 64 MiB, page
// tables at 64 MiB and the snapshot storage at 80 MiB.
type Machine struct {
	M      *sim.Machine
	Ranges []snapshot.Range
	// Excluded is recorded in the header (New adds the storage itself).
	Excluded []snapshot.Exclusion
}

const (
	tablesBase = 64 << 20
	tablesSize = 4 << 20
	storage    = 80 << 20
	memSize    = 160 << 20
)

// New returns a machine capturing ranges (4 KiB aligned, below 64 MiB).
func New(ranges ...snapshot.Range) (*Machine, error) {
	m := sim.NewMachine(mmu.AMD64, memSize, tablesBase, tablesSize)
	for _, r := range ranges {
		if r.End() > tablesBase {
			return nil, fmt.Errorf("simimage: range %v above 64 MiB", r)
		}
		if err := m.Tables.Map(mmu.VA(r.Base), mmu.PA(r.Base), r.Size, 4096, 0); err != nil {
			return nil, err
		}
	}
	return &Machine{M: m, Ranges: ranges}, nil
}

// Store64 writes memory directly (no page tables: use it between snapshots).
func (m *Machine) Store64(pa, v uint64) { m.M.Mem.Store64(pa, v) }

// Snapshot takes a complete snapshot with the given instant and returns the
// image bytes (the storage region, exactly the layout's size).
func (m *Machine) Snapshot(instant uint64) ([]byte, error) {
	l, err := snapshot.NewLayout(4096, m.Ranges)
	if err != nil {
		return nil, err
	}
	st := snapshot.Range{Base: storage, Size: l.Size}
	s, err := snapshot.New(snapshot.Config{Ranges: m.Ranges, Storage: st,
		Eager: []snapshot.Range{{Base: tablesBase, Size: tablesSize}},
		Mem:   m.M.Mem, Tables: m.M.Tables, TLB: m.M, Clock: func() uint64 { return instant },
		Excluded: m.Excluded, Overwrite: true})
	if err != nil {
		return nil, err
	}
	m.M.Fault = s.HandleWriteFault
	m.M.StopWorld(func() { err = s.Start() })
	if err != nil {
		return nil, err
	}
	for {
		done, err := s.DrainStep(64)
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	b := make([]byte, l.Size)
	m.M.Mem.Read(st.Base, b)
	return b, nil
}
