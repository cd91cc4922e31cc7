//go:build tamago && arm64

package probe

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// Regs is the number of words a probe dumps: X0-X27 at their index (X18
// unused), then V<n>.D[0] at 32+2n and V<n>.D[1] at 33+2n.
const Regs = 96

// Known register values (gen_probe_arm64.go).
const (
	vLo uint64 = 0xa5a5a5a500000000 // V<n>.D[0]
	vHi uint64 = 0xc3c3c3c300000000 // V<n>.D[1]
	xK  uint64 = 0x5a5a5a5a00000000 // X<n>
)

// writeProbe fills X1-X17, X19-X27 and V0-V31 with known values, stores v
// (from X27) to addr (X0) and dumps the registers into regs
// (probe_arm64.s).
//
//go:noescape
func writeProbe(addr, v uint64, regs *[Regs]uint64)

// irqProbe fills the same registers, counts X0 down from n to 0 (taking
// whatever interrupts come) and dumps them into regs (probe_arm64.s).
//
//go:noescape
func irqProbe(n uint64, regs *[Regs]uint64)

// expected returns what a probe's dump must hold when nothing changed its
// registers: x0 in X0, x27 in X27, the known values elsewhere.
func expected(x0, x27 uint64) (e [Regs]uint64) {
	for n := 1; n <= 26; n++ {
		if n != 18 {
			e[n] = xK + uint64(n)
		}
	}
	e[0], e[27] = x0, x27
	for v := 0; v < 32; v++ {
		e[32+2*v] = vLo + uint64(v)
		e[33+2*v] = vHi + uint64(v)
	}
	return e
}

// changed names the registers whose dumped value differs from want.
func changed(got, want *[Regs]uint64) (names []string) {
	for i := range got {
		if i == 18 || i >= 28 && i < 32 || got[i] == want[i] {
			continue
		}
		if i < 32 {
			names = append(names, fmt.Sprintf("X%d", i))
		} else {
			names = append(names, fmt.Sprintf("V%d.D[%d]", (i-32)/2, (i-32)%2))
		}
	}
	return names
}

// Result is what Run observed.
type Result struct {
	// Page is the page the probe stored to.
	Page uint64
	// Protected: the page was write-protected before the store;
	// Writable: it was writable after it (the fault handler copied and
	// released it: nothing else runs in between).
	Protected, Writable bool
	// Stored: the word holds the stored value afterwards.
	Stored bool
	// Changed names the registers (of X0-X17, X19-X27 and the 64 halves
	// of V0-V31) whose value the store changed: none unless the write
	// fault handler lost some of the interrupted context.
	Changed []string
	// Faults is the number of write faults the snapshot counted across
	// the probe (the probe's store, and any on the stack).
	Faults uint64
}

// ErrNotCapturing means a probe needs a snapshot in its capture phase.
var ErrNotCapturing = errors.New("probe: no snapshot is capturing")

// ErrAllCopied means the drain had copied every page of the probe's buffer
// before the probe could store to one that was still protected.
var ErrAllCopied = errors.New("probe: the drain copied every page of the buffer before the probe: allocate a larger one")

// Run tests the write fault path of the snapshot c is capturing: one store
// to a write-protected page of buf (allocated before the snapshot's Start),
// with every register the store's code may use holding a known value. The
// drain copies pages in address order and makes them writable, so Run
// looks for a page still protected from the end of buf down, with
// interrupts off from that check to the end of the store (no drain can
// run in between).
func Run(c *kernel.Controller, buf []byte) (Result, error) {
	var r Result
	s := c.Snapshot()
	if s == nil || s.Phase() != snapshot.PhaseCapturing {
		return r, ErrNotCapturing
	}
	if len(buf) < 2*4096 {
		return r, fmt.Errorf("probe: buffer of %d bytes: want at least two pages", len(buf))
	}
	lo := (uint64(uintptr(unsafe.Pointer(&buf[0]))) + 4095) &^ 4095
	hi := (uint64(uintptr(unsafe.Pointer(&buf[len(buf)-1]))) &^ 4095)
	v := 0x0123456789abcdef ^ s.Instant()
	var regs [Regs]uint64
	var err error
	kernel.WithInterruptsOff(func() {
		for addr := hi; addr >= lo; addr -= 4096 {
			var w mmu.Walk
			if w, err = c.M.Tables.Walk(mmu.VA(addr)); err != nil {
				return
			}
			if w.Writable {
				continue
			}
			r.Page, r.Protected = addr, true
			f0 := s.Stats().Faults
			writeProbe(addr, v, &regs)
			r.Faults = s.Stats().Faults - f0
			return
		}
		err = ErrAllCopied
	})
	if err != nil {
		return r, err
	}
	want := expected(r.Page, v)
	r.Changed = changed(&regs, &want)
	w, err := c.M.Tables.Walk(mmu.VA(r.Page))
	if err != nil {
		return r, err
	}
	r.Writable = w.Writable
	r.Stored = kernel.PhysMem{}.Load64(r.Page) == v
	return r, nil
}

// IRQResult is what RunIRQ observed.
type IRQResult struct {
	// Ticks is the number of timer interrupts taken during the probe's
	// spin loops.
	Ticks uint64
	// Rounds is the number of spin loops.
	Rounds int
	// Changed names the registers some interrupt changed (see
	// Result.Changed), over all rounds.
	Changed []string
}

// RunIRQ tests the interrupt path: it spins with known values in every
// register the spin may hold until ticks (the board's timer interrupt
// count) has advanced by at least minTicks, or 1000 rounds passed, and
// reports the registers any interrupt changed.
func RunIRQ(ticks func() uint64, minTicks uint64) IRQResult {
	var r IRQResult
	var regs [Regs]uint64
	want := expected(0, xK+27)
	seen := map[string]bool{}
	t0 := ticks()
	for r.Rounds < 1000 && ticks()-t0 < minTicks {
		irqProbe(1<<20, &regs)
		r.Rounds++
		for _, n := range changed(&regs, &want) {
			if !seen[n] {
				seen[n] = true
				r.Changed = append(r.Changed, n)
			}
		}
	}
	r.Ticks = ticks() - t0
	return r
}

// CASResult is what RunCAS observed.
type CASResult struct {
	// Pages is the number of pages of the buffer; Protected how many
	// were still write-protected when their compare-and-swap ran.
	Pages, Protected int
	// Lost counts the compare-and-swaps that reported success but left
	// the old value in memory, or reported failure.
	Lost int
}

// RunCAS does one sync/atomic compare-and-swap on the first word of every
// page of buf (allocated before the snapshot's Start, its first words
// holding their page index), in order, while the snapshot c is capturing
// and the timer tick runs: most of them take a write fault, and with the
// tick some are interrupted right after it. Each must store its value
// (on arm64 with FEAT_LSE the compiler emits CASAL, which keeps the
// expected value in R27 across the instruction).
func RunCAS(c *kernel.Controller, buf []uint64) (CASResult, error) {
	r := CASResult{Pages: len(buf) / 512}
	s := c.Snapshot()
	if s == nil || s.Phase() != snapshot.PhaseCapturing {
		return r, ErrNotCapturing
	}
	for i := 0; i < r.Pages; i++ {
		p := &buf[i*512]
		if w, err := c.M.Tables.Walk(mmu.VA(uintptr(unsafe.Pointer(p)))); err == nil && !w.Writable {
			r.Protected++
		}
		ok := atomic.CompareAndSwapUint64(p, uint64(i), uint64(i)+1<<32)
		if !ok || atomic.LoadUint64(p) != uint64(i)+1<<32 {
			r.Lost++
		}
	}
	return r, nil
}

// ID_AA64ISAR0_EL1.Atomic, bits 23:20 (Arm ARM D19.2.61): 0b0010 or more
// means FEAT_LSE (CAS, LDADD, SWP...).
const (
	isar0AtomicShift = 20
	isar0AtomicLSE   = 0b0010
)

// LSE reports whether the processor has the Large System Extensions'
// atomic instructions (FEAT_LSE), which the Go runtime and compiler use
// for sync/atomic when present.
func LSE() bool { return kernel.ISAR0()>>isar0AtomicShift&0xf >= isar0AtomicLSE }
