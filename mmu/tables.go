package mmu

import (
	"errors"
	"fmt"
)

// PageSize is the smallest page: 4 KiB.
const PageSize = 4096

// Levels is the number of translation levels (0 = PML4 / arm64 level 0).
const Levels = 4

// Entries is the number of 8-byte entries in a table.
const Entries = 512

// Arch selects the descriptor format.
type Arch uint8

// Supported formats.
const (
	AMD64 Arch = iota + 1 // Intel SDM 4-level paging
	ARM64                 // VMSAv8-64 stage 1, 4 KiB granule, 48-bit VA
)

func (a Arch) String() string {
	switch a {
	case AMD64:
		return "amd64"
	case ARM64:
		return "arm64"
	}
	return fmt.Sprintf("Arch(%d)", uint8(a))
}

// Invalidation says which TLB invalidation the caller must issue after an
// operation for its effect to be seen.
type Invalidation uint8

// Invalidations, weakest first.
const (
	InvalNone Invalidation = iota
	// InvalPage: the translation of one page (INVLPG va / TLBI VAE1IS va,
	// then DSB ISH; ISB). On amd64 INVLPG also drops a large-page entry
	// and the paging-structure caches for va (SDM 4.10.4.1).
	InvalPage
	// InvalAll: every translation, global ones included (toggle CR4.PGE or
	// reload CR3 when no global pages are used / TLBI VMALLE1IS; DSB ISH;
	// ISB), SDM 4.10.4.1, Arm ARM D8.13.
	InvalAll
)

// VA is a virtual address: what the page tables translate.
type VA uint64

// PA is a physical address: what they translate to, and where tables live.
type PA uint64

// Invalidator issues TLB invalidations (implemented by the kernel's TLB and
// the simulator's CPUs). Its methods run in the fault path: //go:nosplit,
// no allocation, no locks.
type Invalidator interface {
	// InvalidatePage drops every translation of the page at va
	// (INVLPG / TLBI VAAE1IS; DSB ISH; ISB).
	InvalidatePage(va uint64)
	// InvalidateAll drops every translation, global ones included (CR4.PGE
	// toggled twice / TLBI VMALLE1IS; DSB ISH; ISB).
	InvalidateAll()
}

// Flush is the TLB invalidation an operation that changed mappings
// requires before its effect is certain to be seen (the mmu analogue of a
// must-use value). Every Flush returned must be applied (Apply) or dropped
// on purpose (Ignore, saying why); internal/flushcheck, run by the tests,
// fails when a Flush result is discarded.
type Flush struct {
	kind Invalidation
	va   VA
}

// Kind returns the invalidation f stands for.
//
//go:nosplit
func (f Flush) Kind() Invalidation { return f.kind }

// Apply issues the invalidation f stands for (none, one page, or all).
// Fault path: nosplit, no allocation.
//
//go:nosplit
func (f Flush) Apply(tlb Invalidator) {
	switch f.kind {
	case InvalPage:
		tlb.InvalidatePage(uint64(f.va))
	case InvalAll:
		tlb.InvalidateAll()
	}
}

// Ignore drops f on purpose; the caller's comment says which invalidation
// covers it.
//
//go:nosplit
func (f Flush) Ignore() {}

// levelSize returns the bytes mapped by one entry at level.
//
//go:nosplit
func levelSize(level int) uint64 { return 1 << (12 + 9*uint(3-level)) }

// index returns va's table index at level.
//
//go:nosplit
func index(va uint64, level int) uint64 { return va >> (12 + 9*uint(3-level)) & (Entries - 1) }

// Tables is one address space's page tables.
type Tables struct {
	Arch Arch
	Mem  PhysMem
	Root PA    // physical address of the level-0 table (CR3 / TTBR0_EL1 base)
	Pool *Pool // pages for new tables (splits); may be nil if never needed
}

// The per-format entry primitives. A switch on Arch rather than an interface
// keeps the fault path free of indirect calls.

//go:nosplit
func (t *Tables) valid(e uint64, level int) bool {
	if t.Arch == ARM64 {
		return armValid(e, level)
	}
	return e&X86_P != 0
}

//go:nosplit
func (t *Tables) leaf(e uint64, level int) bool {
	if t.Arch == ARM64 {
		return armLeaf(e, level)
	}
	return x86Leaf(e, level)
}

//go:nosplit
func (t *Tables) next(e uint64) uint64 {
	if t.Arch == ARM64 {
		return e & ARM_ADDR
	}
	return e & X86_ADDR
}

// writable reports whether the entry itself permits writes. An arm64 leaf
// with DBM set is writable (writable-clean): with FEAT_HAFDBS the hardware
// clears AP[2] on the first store without a fault (D8.4.6).
//
//go:nosplit
func (t *Tables) writable(e uint64, level int) bool {
	if t.Arch == ARM64 {
		if armLeaf(e, level) {
			return e&ARM_AP2 == 0 || e&ARM_DBM != 0
		}
		return e&ARM_APTABLE1 == 0
	}
	return e&X86_RW != 0
}

// ours reports whether e is read-only because this package protected it
// (software bit set): only such entries are ever made writable again, so
// pages the kernel mapped read-only stay read-only.
//
//go:nosplit
func (t *Tables) ours(e uint64, level int) bool {
	if t.Arch == ARM64 {
		return e&ARM_SWPROT != 0 && !t.writable(e, level)
	}
	return e&X86_SWPROT != 0 && e&X86_RW == 0
}

// protected returns the writable entry e made read-only and marked ours.
//
//go:nosplit
func (t *Tables) protected(e uint64, level int) uint64 {
	if t.Arch == ARM64 {
		if armLeaf(e, level) {
			return e&^ARM_DBM | ARM_AP2 | ARM_SWPROT
		}
		return e | ARM_APTABLE1 | ARM_SWPROT
	}
	return e&^X86_RW | X86_SWPROT
}

// released returns the entry e (ours) made writable again.
//
//go:nosplit
func (t *Tables) released(e uint64, level int) uint64 {
	if t.Arch == ARM64 {
		if armLeaf(e, level) {
			return e &^ (ARM_AP2 | ARM_SWPROT)
		}
		return e &^ (ARM_APTABLE1 | ARM_SWPROT)
	}
	return e&^X86_SWPROT | X86_RW
}

//go:nosplit
func (t *Tables) splitChild(e uint64, level int, i uint64) uint64 {
	if t.Arch == ARM64 {
		return armSplit(e, level, i)
	}
	return x86Split(e, level, i)
}

//go:nosplit
func (t *Tables) tableEntry(tab, e uint64) uint64 {
	if t.Arch == ARM64 {
		return armTable(tab)
	}
	return x86Table(tab, e)
}

// sameKind reports whether n is still the same kind of entry as e (valid,
// leaf or table, same address): only its permission bits may differ.
//
//go:nosplit
func (t *Tables) sameKind(n, e uint64, level int) bool {
	return t.valid(n, level) && t.leaf(n, level) == t.leaf(e, level) && t.next(n) == t.next(e)
}

// protect atomically makes the entry at ea (last read as e) read-only if it
// is writable. ok is false if the entry changed kind meanwhile (re-read
// it); wrote reports whether this call changed it.
//
//go:nosplit
func (t *Tables) protect(ea, e uint64, level int) (ok, wrote bool) {
	for {
		if !t.writable(e, level) {
			return true, false
		}
		if t.Mem.CAS64(ea, e, t.protected(e, level)) {
			return true, true
		}
		n := t.Mem.Load64(ea)
		if !t.sameKind(n, e, level) {
			return false, false
		}
		e = n
	}
}

// release atomically makes the entry at ea (last read as e) writable if
// this package protected it. ok is false if the entry changed kind; ro
// reports an entry that was read-only before any Protect (left alone).
//
//go:nosplit
func (t *Tables) release(ea, e uint64, level int) (ok, wrote, ro bool) {
	for {
		if t.writable(e, level) {
			return true, false, false
		}
		if !t.ours(e, level) {
			return true, false, true
		}
		if t.Mem.CAS64(ea, e, t.released(e, level)) {
			return true, true, false
		}
		n := t.Mem.Load64(ea)
		if !t.sameKind(n, e, level) {
			return false, false, false
		}
		e = n
	}
}

// split replaces the large leaf e (at ea, level 1 or 2) by a table of 512
// children with e's attributes and permission, linked by a writable table
// entry, so the effective permissions are unchanged. It returns false if
// the entry changed meanwhile (re-read it) and ErrPoolEmpty if no page is
// left.
//
//go:nosplit
func (t *Tables) split(ea, e uint64, level int) (bool, error) {
	i, tab, ok := t.Pool.alloc()
	if !ok {
		return false, ErrPoolEmpty
	}
	for j := uint64(0); j < Entries; j++ {
		t.Mem.Store64(tab+8*j, t.splitChild(e, level, j))
	}
	if !t.Mem.CAS64(ea, e, t.tableEntry(tab, e)) {
		t.Pool.unalloc(i)
		return false, nil
	}
	t.Pool.linked()
	return true, nil
}

// joinResult is the outcome of join.
type joinResult uint8

const (
	joinDone    joinResult = iota // the table is a large leaf again
	joinNo                        // not joinable: left as it is
	joinChanged                   // the entry changed meanwhile: re-read it
)

// joined returns the large leaf at level whose split would give c0 as its
// first child (the inverse of splitChild for i = 0).
func (t *Tables) joined(c0 uint64, level int) uint64 {
	if t.Arch == ARM64 {
		return c0&ARM_ADDR | c0&^ARM_ADDR&^ARM_TYPE | ARM_VALID
	}
	if level == 2 {
		e := c0&X86_ADDR | c0&^X86_ADDR&^X86_PAT4 | X86_PS
		if c0&X86_PAT4 != 0 {
			e |= X86_PATL
		}
		return e
	}
	return c0 // a 2 MiB child: PS and PAT (bit 12) already where a 1 GiB leaf has them
}

// join replaces the table entry e at ea (level 1 or 2), which points to a
// table a split made, by the large leaf that split replaced, if the table
// still maps exactly that: every child is the split's child of the same
// writable, unprotected leaf, and e itself is writable. The old table is
// then unreachable.
//
// amd64: the entry is replaced in one store; both translations map the
// same addresses with the same attributes, so a TLB holding either is
// correct; the caller invalidates all translations (and the paging-
// structure caches that point to the old table) before the table page is
// reused (Intel SDM Vol. 3A 4.10.2.3 and 4.10.4). arm64: a change of block
// size needs break-before-make without FEAT_BBM (Arm ARM DDI 0487,
// D8.14.1 "Break-before-make"): the entry is made invalid, all
// translations are invalidated (TLBI VMALLE1IS; DSB ISH; ISB), then the
// block descriptor is written. Between the two stores the region is
// unmapped: nothing may access it, which the caller promises with quiet
// (see Merge; without it an arm64 table is not joined).
func (t *Tables) join(ea, e uint64, level int, tlb Invalidator, quiet bool) joinResult {
	if !t.writable(e, level) || t.Arch == ARM64 && !quiet {
		return joinNo
	}
	tab := t.next(e)
	c0 := t.Mem.Load64(tab)
	if !t.valid(c0, level+1) || !t.leaf(c0, level+1) {
		return joinNo
	}
	big := t.joined(c0, level)
	sw := uint64(X86_SWPROT)
	if t.Arch == ARM64 {
		sw = ARM_SWPROT
	}
	if !t.writable(big, level) || big&sw != 0 {
		return joinNo // still protected (or read-only on purpose)
	}
	for j := uint64(0); j < Entries; j++ {
		if t.Mem.Load64(tab+8*j) != t.splitChild(big, level, j) {
			return joinNo
		}
	}
	if t.Arch == ARM64 {
		if !t.Mem.CAS64(ea, e, 0) {
			return joinChanged
		}
		tlb.InvalidateAll()
		t.Mem.Store64(ea, big)
		return joinDone
	}
	if !t.Mem.CAS64(ea, e, big) {
		return joinChanged
	}
	return joinDone
}

// pushDown makes every writable entry of the table at tab (at level)
// read-only, so that its parent can become writable without making any of
// them writable.
//
//go:nosplit
func (t *Tables) pushDown(tab uint64, level int) {
	for j := uint64(0); j < Entries; j++ {
		ea := tab + 8*j
		for {
			e := t.Mem.Load64(ea)
			if !t.valid(e, level) {
				break
			}
			if ok, _ := t.protect(ea, e, level); ok {
				break
			}
		}
	}
}

// Unprotect makes the 4 KiB page at va writable: it pushes protection down
// through protected tables and splits large protected pages on the way
// (taking table pages from Pool). It fails with ErrNotMapped, ErrReadOnly
// (the page was read-only before Protect) or ErrPoolEmpty (then nothing was
// made writable that was not before; UnprotectLeaf makes the whole large
// page writable instead). The caller must apply the returned Flush (a page
// invalidation: a stale read-only TLB entry would fault again on arm64).
//
// Runs in the write-fault handler: nosplit, no allocation, no locks.
//
//go:nosplit
func (t *Tables) Unprotect(va VA) (Flush, error) {
	if t.releasePage(uint64(va) & (1<<48 - 1) &^ (PageSize - 1)) {
		return Flush{kind: InvalPage, va: va}, nil
	}
	return t.unprotect(va, false)
}

// UnprotectLeaf is Unprotect without splits: it makes the whole page or
// large page mapping va writable. The caller must ensure every byte of it
// may be written. Fault path: nosplit, no allocation, no locks.
//
//go:nosplit
func (t *Tables) UnprotectLeaf(va VA) (Flush, error) {
	return t.unprotect(va, true)
}

//go:nosplit
func (t *Tables) unprotect(va VA, noSplit bool) (Flush, error) {
	v := visitor{op: opRelease, strict: true, noSplit: noSplit}
	t.walkPage(&v, uint64(va)&(1<<48-1)&^(PageSize-1))
	if v.fail != failNone {
		return Flush{}, v.fail.err()
	}
	return Flush{kind: InvalPage, va: va}, nil
}

// releasePage is Unprotect's common case, the one a write fault almost
// always meets once its region's protection was pushed down: every table
// entry on va's path valid, a table and writable, and va's 4 KiB leaf
// read-only because this package protected it. It makes that leaf
// writable with one CAS and reports true — what walkPage with the strict
// release visitor does for such a path (descend through writable tables,
// release the leaf), written out per format without the visitor's
// decisions. For any other path, or if the leaf changed under it, it
// changes nothing and reports false: the walk decides. (Unprotect's
// only: UnprotectLeaf, the pool-empty fallback, is rare.)
//
// Fault path: nosplit, no allocation, no locks.
//
//go:nosplit
func (t *Tables) releasePage(va uint64) bool {
	if t.Arch == ARM64 {
		return releasePageARM64(t.Mem, uint64(t.Root), va)
	}
	return releasePageAMD64(t.Mem, uint64(t.Root), va)
}

// releasePageAMD64 is releasePage for amd64 tables: each of PML4E, PDPTE,
// PDE present, writable and (PDPTE, PDE) PS clear — a writable table (SDM
// Vol. 3A 4.5, Tables 4-15 to 4-19; bit 7 of a PML4E is reserved, 0) —
// and the PTE present, read-only and ours (X86_SWPROT). Constant masks and
// few live values: the interface calls spill less (the fault path).
//
//go:nosplit
func releasePageAMD64(m PhysMem, tab, va uint64) bool {
	for shift := uint(39); shift > 12; shift -= 9 {
		e := m.Load64(tab + va>>shift&(Entries-1)*8)
		if e&(X86_P|X86_RW|X86_PS) != X86_P|X86_RW {
			return false
		}
		tab = e & X86_ADDR
	}
	ea := tab + va>>12&(Entries-1)*8
	e := m.Load64(ea)
	return e&(X86_P|X86_RW|X86_SWPROT) == X86_P|X86_SWPROT && m.CAS64(ea, e, e&^X86_SWPROT|X86_RW)
}

// releasePageARM64 is releasePage for arm64 tables: each level 0-2
// descriptor a table (0b11, D8.3.1) with APTable[1] clear (writes allowed
// below, D8.4.2), and the level 3 page descriptor (0b11) ours read-only:
// AP[2] and ARM_SWPROT set, DBM clear (writable and ours).
//
//go:nosplit
func releasePageARM64(m PhysMem, tab, va uint64) bool {
	for shift := uint(39); shift > 12; shift -= 9 {
		e := m.Load64(tab + va>>shift&(Entries-1)*8)
		if e&(ARM_TYPE|ARM_APTABLE1) != ARM_TYPE {
			return false
		}
		tab = e & ARM_ADDR
	}
	ea := tab + va>>12&(Entries-1)*8
	e := m.Load64(ea)
	return e&(ARM_TYPE|ARM_AP2|ARM_SWPROT|ARM_DBM) == ARM_TYPE|ARM_AP2|ARM_SWPROT &&
		m.CAS64(ea, e, e&^(ARM_AP2|ARM_SWPROT))
}

// Merge joins every table a split made (a Pool page allocated after
// Pool.Seal) back into the large leaf it replaced, where the table still
// maps exactly what that leaf mapped with its permission restored (every
// entry released: UnprotectRange of everything Protect covered), deepest
// level first (a 1 GiB page split twice comes back whole). It returns to
// the pool the pages above the highest split table left (all of them when
// none is left). It applies the
// invalidations it needs through tlb (then all translations, before the
// table pages can be reused) and returns the tables joined and the split
// tables left (not joinable); the pool keeps the pages up to the highest
// table left. With prep, the regions whose prepared table
// replaced a table (Prepare, Apply) get that table back first (a prepared
// table that replaced a 2 MiB leaf is a split like any other).
//
// On arm64 a join needs break-before-make (see join): the region is
// unmapped for a few instructions, so joins happen only if quiet — the
// caller promises that nothing accesses any joined region meanwhile (one
// CPU, interrupts off, neither its code nor its stack there); otherwise
// arm64 split tables are left (and counted). On amd64 quiet is not
// needed. The kernel maps captured RAM in 4 KiB pages on arm64, so
// snapshots split nothing there.
//
// It must not run concurrently with Protect or UnprotectRange on the same
// tables (the snapshot engine calls it once nothing is protected, from
// the drain); a concurrent Unprotect's split only keeps the pool from
// being returned. It allocates nothing and takes no locks (the drain may
// run it in the timer interrupt).
func (t *Tables) Merge(tlb Invalidator, quiet bool, prep *Prepared) (merged, left int) {
	p := t.Pool
	if p == nil || !p.sealed {
		return 0, 0
	}
	m, idle := p.markStart()
	if m.next <= p.floor {
		return 0, 0 // nothing split since Seal
	}
	top := p.floor // the pool index after the highest split table left
	if prep != nil {
		var ptop uint64
		merged, left, ptop = t.restore(prep)
		top = max(top, ptop)
	}
	for level := 2; level >= 1; level-- {
		for lo := uint64(0); lo < 1<<48; {
			v := visitor{op: opMerge, level: uint8(level)}
			t.walk(&v, lo, 1<<48)
			if v.n == 0 {
				break // no split table left at this level
			}
			switch t.join(v.delta, v.leaf, level, tlb, quiet) {
			case joinDone:
				merged++
			case joinNo:
				left++
				top = max(top, p.after(t.next(v.leaf)))
			case joinChanged:
				continue // look at it again
			}
			lo = v.attrs + levelSize(level)
		}
	}
	if merged > 0 {
		Flush{kind: InvalAll}.Apply(tlb)
	}
	if idle {
		p.reclaim(m, top)
	}
	return merged, left
}

// Walk is the result of translating one address.
type Walk struct {
	Level    int            // level of the leaf entry
	Size     uint64         // bytes mapped by the leaf (4 KiB, 2 MiB or 1 GiB)
	PA       PA             // physical address of va
	Leaf     uint64         // the leaf entry
	Entries  [Levels]uint64 // entries on the path, Entries[0..Level]
	Writable bool           // writes allowed by every level
}

// Walk translates va (bits 63:48 are ignored). It fails with ErrNotMapped
// if some entry on the path is invalid.
//
//go:nosplit
func (t *Tables) Walk(va VA) (w Walk, err error) {
	w.Writable = true
	v := visitor{op: opLookup, w: &w}
	t.walkPage(&v, uint64(va)&(1<<48-1)&^(PageSize-1))
	if v.fail != failNone {
		return w, v.fail.err()
	}
	w.Level, w.Size, w.Leaf = int(v.level), levelSize(int(v.level)), v.leaf
	w.PA = PA(t.next(v.leaf)&^(w.Size-1) | uint64(va)&(w.Size-1))
	return w, nil
}

// LeafSize returns the size of the page mapping va (4 KiB, 2 MiB or 1 GiB).
// A lean Walk: Walk's result struct would cost the fault path's small
// stack 100 bytes.
//
//go:nosplit
func (t *Tables) LeafSize(va VA) (uint64, error) {
	v := visitor{op: opLookup}
	t.walkPage(&v, uint64(va)&(1<<48-1)&^(PageSize-1))
	if v.fail != failNone {
		return 0, v.fail.err()
	}
	return levelSize(int(v.level)), nil
}

func checkRange(va VA, size uint64) error {
	if va%PageSize != 0 || size%PageSize != 0 || uint64(va)+size < uint64(va) || uint64(va)+size > 1<<48 {
		return fmt.Errorf("%w: [%#x, +%#x)", ErrRange, va, size)
	}
	return nil
}

// Protect write-protects [va, va+size) (4 KiB aligned), clearing the write
// bit of the highest entries that lie wholly inside it and splitting large
// pages only where a boundary cuts them (Pool pages). Unmapped parts are
// skipped. It returns the number of entries written (protected plus split
// children) and the Flush to apply (all translations if anything changed).
// It expects no concurrent writer to the tables (Start runs with the world
// stopped) but uses CAS anyway.
func (t *Tables) Protect(va VA, size uint64) (touched int, f Flush, err error) {
	if err := checkRange(va, size); err != nil {
		return 0, Flush{}, err
	}
	v := visitor{op: opProtect}
	if size > 0 {
		t.walk(&v, uint64(va), uint64(va)+size)
	}
	if v.n > 0 {
		f = Flush{kind: InvalAll, va: va}
	}
	return v.n, f, v.fail.err()
}

// UnprotectRange makes [va, va+size) writable with as few entries as
// possible: entries wholly inside the range get their write bit set, with
// everything below them; partly covered read-only tables are pushed down
// first and partly covered large read-only pages split. The caller must
// ensure every page of the range may be written. It returns the entries
// written and the Flush to apply.
func (t *Tables) UnprotectRange(va VA, size uint64) (touched int, f Flush, err error) {
	if err := checkRange(va, size); err != nil {
		return 0, Flush{}, err
	}
	v := visitor{op: opRelease}
	if size > 0 {
		t.walk(&v, uint64(va), uint64(va)+size)
	}
	switch {
	case v.n == 0:
	case size == PageSize:
		f = Flush{kind: InvalPage, va: va}
	default:
		f = Flush{kind: InvalAll, va: va}
	}
	return v.n, f, v.fail.err()
}

// errMapped: Map found a larger page in the way (reported with its address).
var errMapped = errors.New("mmu: Map: already mapped")

// Map maps [va, va+size) to [pa, pa+size) writable with leaves of leafSize
// (4 KiB, 2 MiB or 1 GiB; va, pa and size aligned to it), allocating tables
// from Pool as needed. attrs are extra leaf attribute bits (e.g. memory type);
// the valid/present, write and (arm64) access-flag bits are set by Map. It is
// for building page tables (kernel start-up, tests), not for the fault path;
// the new mappings need no TLB invalidation as long as nothing was mapped
// there before.
func (t *Tables) Map(va VA, pa PA, size, leafSize uint64, attrs uint64) error {
	leafLevel := -1
	for l := 1; l < Levels; l++ {
		if levelSize(l) == leafSize {
			leafLevel = l
		}
	}
	if leafLevel < 0 || uint64(va)%leafSize != 0 || uint64(pa)%leafSize != 0 || size%leafSize != 0 {
		return fmt.Errorf("%w: Map(%#x, %#x, %#x, leaf %#x)", ErrRange, va, pa, size, leafSize)
	}
	if err := checkRange(va, size); err != nil {
		return err
	}
	if size == 0 {
		return nil
	}
	v := visitor{op: opMap, level: uint8(leafLevel), delta: uint64(pa) - uint64(va), attrs: attrs}
	t.walk(&v, uint64(va), uint64(va)+size)
	if v.fail == failMapped {
		return fmt.Errorf("mmu: Map %#x: already mapped by a %#x page", max(v.leaf, uint64(va)), levelSize(int(v.level)))
	}
	return v.fail.err()
}

// leafEntry returns a writable leaf entry for pa at level.
//
//go:nosplit
func (t *Tables) leafEntry(pa uint64, level int, attrs uint64) uint64 {
	if t.Arch == ARM64 {
		typ := uint64(ARM_VALID)
		if level == 3 {
			typ = ARM_TYPE
		}
		return pa | attrs | typ | ARM_AF
	}
	e := pa | attrs | X86_P | X86_RW | X86_A | X86_D
	if level < 3 {
		e |= X86_PS
	}
	return e
}
