package mmu

// Protection prepared before the instant. Protect at the instant writes
// one entry per 2 MiB region it covers whole, and in a 2 MiB region it
// covers only in part (pages that must stay writable: the snapshot's eager
// set) it splits the 2 MiB leaf (513 entries) and clears the write bit of
// each 4 KiB leaf to protect (up to 511 more). Prepare builds, before the
// instant, the page directory (level-2 table) each 1 GiB region will have
// once protected — a copy of the region's, with the 2 MiB entries inside
// the ranges read-only and, for the 2 MiB regions the ranges cover in
// part, a new 4 KiB table with the pages to protect read-only — and Apply,
// at the instant, links each in place of the region's entry: one entry
// per GiB. After the snapshot, Merge puts the regions' own entries back.

// Region is a range of virtual addresses (4 KiB aligned).
type Region struct {
	VA   VA
	Size uint64
}

// End returns the first address after r.
func (r Region) End() VA { return r.VA + VA(r.Size) }

// Prepared is the set of tables Prepare built. Its zero value holds none.
type Prepared struct {
	swaps []swap
	// whole: Apply alone protects every range Prepare was given, if it
	// links every swap (no 1 GiB leaf, nothing unmapped in the way).
	whole bool
}

// swap replaces the level-1 entry at ea, old, by new: the same entry
// read-only (a GiB the ranges cover whole) or a table entry for the
// prepared page directory. Apply only reads it: at the instant the swaps'
// memory (heap, captured) is neither eager nor protected yet, and a write
// there would reach the image with content newer than the instant.
type swap struct {
	ea, old, new uint64
}

// Len returns the number of prepared entries.
func (p *Prepared) Len() int { return len(p.swaps) }

// Reset forgets the prepared tables (their pool pages return with the
// next Merge).
func (p *Prepared) Reset() { p.swaps, p.whole = p.swaps[:0], false }

// Prepare builds, for every 1 GiB region that the sorted, disjoint ranges
// protect meet, the region's entry as Protect(protect) would leave it:
// read-only if protect covers it whole, else a table entry for a new page
// directory (see above). The tables come from Pool; nothing the CPU uses
// changes. It returns ErrPoolEmpty if the pool runs out (p then holds
// what was prepared so far, and Protect must run after Apply).
//
// The tables must not change between Prepare and Apply (Apply checks each
// entry and skips a changed one).
func (t *Tables) Prepare(p *Prepared, protect []Region) error {
	p.Reset()
	p.whole = true
	const giga = 1 << 30
	last := ^uint64(0)
	for _, r := range protect {
		if r.Size == 0 {
			continue
		}
		for g := uint64(r.VA) &^ (giga - 1); g < uint64(r.End()); g += giga {
			if g == last {
				continue
			}
			last = g
			if err := t.prepareGiga(p, protect, g); err != nil {
				p.whole = false
				return err
			}
		}
	}
	return nil
}

// cover says how much of [b, b+size) protect covers: none, part or all.
func cover(protect []Region, b, size uint64) (part, all bool) {
	var n uint64
	for _, r := range protect {
		lo, hi := max(uint64(r.VA), b), min(uint64(r.End()), b+size)
		if lo < hi {
			n += hi - lo
		}
	}
	return n > 0, n == size
}

// entryAt returns the address of the entry at level mapping va and the
// entry; ok is false if the walk ended above level (unmapped or a leaf).
func (t *Tables) entryAt(va uint64, level int) (ea, e uint64, ok bool) {
	v := visitor{op: opLookup, level: uint8(level), at: true}
	t.walk(&v, va, va+1)
	return v.delta, v.leaf, v.fail == failNone && v.n == level
}

// prepareGiga prepares the 1 GiB region at g.
func (t *Tables) prepareGiga(p *Prepared, protect []Region, g uint64) error {
	ea, e, ok := t.entryAt(g, 1)
	if !ok || t.leaf(e, 1) || !t.writable(e, 1) {
		p.whole = false // unmapped, a 1 GiB page, or read-only: left to Protect
		return nil
	}
	if _, all := cover(protect, g, 1<<30); all {
		_, n, _ := t.protectedEntry(e, 1)
		p.swaps = append(p.swaps, swap{ea: ea, old: e, new: n})
		return nil
	}
	_, pd, ok := t.Pool.allocFree()
	if !ok {
		return ErrPoolEmpty
	}
	orig := t.next(e)
	for j := uint64(0); j < Entries; j++ {
		b := g + j*(2<<20)
		c := t.Mem.Load64(orig + 8*j)
		if part, all := cover(protect, b, 2<<20); t.valid(c, 2) && t.writable(c, 2) && part {
			if all {
				c = t.protected(c, 2)
			} else {
				var err error
				if c, err = t.preparePT(protect, b, c); err != nil {
					return err
				}
			}
		}
		t.Mem.Store64(pd+8*j, c)
	}
	p.swaps = append(p.swaps, swap{ea: ea, old: e, new: t.retarget(e, pd)})
	return nil
}

// protectedEntry returns e made read-only (ours) if it is writable.
func (t *Tables) protectedEntry(e uint64, level int) (bool, uint64, bool) {
	if !t.writable(e, level) {
		return false, e, true
	}
	return true, t.protected(e, level), true
}

// preparePT returns the entry of a new 4 KiB table for the 2 MiB region at
// b, mapped now by e (a 2 MiB leaf or a table): its 4 KiB leaves, those in
// protect read-only.
func (t *Tables) preparePT(protect []Region, b, e uint64) (uint64, error) {
	_, tab, ok := t.Pool.allocFree()
	if !ok {
		return 0, ErrPoolEmpty
	}
	leaf := t.leaf(e, 2)
	for j := uint64(0); j < Entries; j++ {
		var c uint64
		if leaf {
			c = t.splitChild(e, 2, j)
		} else {
			c = t.Mem.Load64(t.next(e) + 8*j)
		}
		if part, _ := cover(protect, b+j*PageSize, PageSize); part && t.valid(c, 3) && t.writable(c, 3) {
			c = t.protected(c, 3)
		}
		t.Mem.Store64(tab+8*j, c)
	}
	if leaf {
		return t.tableEntry(tab, e), nil
	}
	return t.retarget(e, tab), nil
}

// retarget returns the table entry e pointing to table tab instead.
func (t *Tables) retarget(e, tab uint64) uint64 {
	if t.Arch == ARM64 {
		return e&^ARM_ADDR | tab
	}
	return e&^X86_ADDR | tab
}

// Apply links the prepared entries (at the instant, with everything else
// stopped): one per GiB, each replaced only if it is still what Prepare
// saw. It returns the entries written and whether they protect every
// range Prepare was given (else Protect must run over them; it finds the
// prepared parts protected already); the caller then invalidates all
// translations. Linking a table of the same translations in place of a
// 2 MiB leaf, or of another table, changes neither output addresses,
// attributes nor the size of any translation a TLB may hold — only the
// permissions of the pages protected, which the invalidation covers — so
// no break-before-make is needed (Arm ARM DDI 0487, D8.14.1: block to
// table changes need it without FEAT_BBM; here the block's translations
// stay valid and identical until the invalidation). Like Protect, it
// allocates nothing.
//
//go:nosplit
func (t *Tables) Apply(p *Prepared) (touched int, whole bool) {
	for _, s := range p.swaps {
		if t.Mem.CAS64(s.ea, s.old, s.new) {
			touched++
		}
	}
	return touched, p.whole && touched == len(p.swaps)
}

// restore puts back the original entry of every linked prepared GiB whose
// page directory maps, every page released, what the original does: each
// entry equal to the original's, or a table whose 4 KiB leaves equal the
// original 2 MiB leaf's split or the original table's leaves. It returns
// the GiBs restored and left, and the pool index after the highest page
// directory left linked.
func (t *Tables) restore(p *Prepared) (restored, left int, top uint64) {
	for _, s := range p.swaps {
		if t.Mem.Load64(s.ea) != s.new || t.next(s.new) == t.next(s.old) {
			continue // not linked, or a GiB protected whole (released already)
		}
		pd, orig := t.next(s.new), t.next(s.old)
		same := true
		for j := uint64(0); same && j < Entries; j++ {
			same = t.sameMapping(t.Mem.Load64(pd+8*j), t.Mem.Load64(orig+8*j))
		}
		if same && t.Mem.CAS64(s.ea, s.new, s.old) {
			restored++
		} else {
			left++
			top = max(top, t.Pool.after(pd))
		}
	}
	return restored, left, top
}

// sameMapping reports whether the level-2 entry c maps what o does: equal,
// or a table whose leaves are o's split (o a 2 MiB leaf) or o's table's
// leaves.
func (t *Tables) sameMapping(c, o uint64) bool {
	if c == o {
		return true
	}
	if !t.valid(c, 2) || t.leaf(c, 2) || !t.valid(o, 2) || !t.writable(c, 2) || !t.writable(o, 2) {
		return false
	}
	tab := t.next(c)
	for k := uint64(0); k < Entries; k++ {
		want := uint64(0)
		if t.leaf(o, 2) {
			want = t.splitChild(o, 2, k)
		} else {
			want = t.Mem.Load64(t.next(o) + 8*k)
		}
		if t.Mem.Load64(tab+8*k) != want {
			return false
		}
	}
	return true
}
