package mmu

// The one traversal of the page tables. Every operation — Walk, LeafSize,
// Protect, UnprotectRange, Unprotect, UnprotectLeaf, Map — is walk over a
// range with a visitor holding the operation's policy: requiresSplit says
// whether a large page the range only partly covers must be split first,
// visit decides what to do with each entry. A change to the split or
// push-down rules is made here once. split and pushDown (tables.go) are the
// two one-table primitives the visitors use.
//
// walk is iterative (a fixed array of frames, no recursion) and, like the
// visitors, //go:nosplit and allocation free: Unprotect runs it in the
// write-fault handler. The visitor is a concrete type switched on its op,
// not an interface, so the fault path makes no indirect call and nothing
// escapes to the heap.

// action is a visitor's decision about the entry it was shown.
type action uint8

const (
	actNext    action = iota // done with this entry: go to the next one
	actAgain                 // the entry changed: re-read it and visit it again
	actDescend               // visit the entries of the table it points to
	actStop                  // end the walk (the visitor holds the result)
)

// op selects a visitor's policy.
type opKind uint8

const (
	opLookup  opKind = iota // Walk, LeafSize: record the path, change nothing
	opProtect               // Protect: clear write bits
	opRelease               // UnprotectRange, Unprotect, UnprotectLeaf: set them again
	opMap                   // Map: create tables and leaves
	opMerge                 // Merge: put split large leaves back
)

// fail says why a walk stopped early. A code rather than an error value:
// storing an interface into the visitor would need a write barrier, which
// the fault path must not have.
type fail uint8

const (
	failNone fail = iota
	failNotMapped
	failReadOnly
	failPoolEmpty
	failMapped // Map: a larger page is in the way
)

// err returns f's error (preallocated values: no allocation).
//
//go:nosplit
func (f fail) err() error {
	switch f {
	case failNotMapped:
		return ErrNotMapped
	case failReadOnly:
		return ErrReadOnly
	case failPoolEmpty:
		return ErrPoolEmpty
	case failMapped:
		return errMapped
	}
	return nil
}

// visitor is one operation's policy and result. It is small and the walk
// stores no pointer into it: it lives in the fault path's frames.
type visitor struct {
	op opKind
	// strict (release): fail with ErrNotMapped or ErrReadOnly on an entry
	// that is invalid or was read-only before Protect, instead of skipping
	// it (Unprotect, UnprotectLeaf).
	strict bool
	// noSplit (release): make a partly covered large page writable whole
	// instead of splitting it (UnprotectLeaf).
	noSplit bool
	fail    fail // why the walk stopped early, if it did
	// level: the leaf's level (opLookup); the new leaves' level, then the
	// level of a leaf in the way (opMap).
	level uint8
	n     int    // entries written (protected, released, split children, pushed down)
	w     *Walk  // opLookup: the path, if wanted (Walk; nil for LeafSize)
	leaf  uint64 // opLookup: the leaf entry; opMap: where a leaf in the way starts
	delta uint64 // opMap: pa - va
	attrs uint64 // opMap: extra leaf attribute bits
	// at (opLookup): stop at level instead of at the leaf, recording the
	// entry's address in delta, the entry in leaf and the level reached in
	// n (lower than level if a leaf came first). opMerge: the level whose
	// split tables the pass looks for; the first one found (n = 1) is
	// reported the same way, with the address it maps in attrs. (Fields
	// are shared between ops: the fault path's stack is small.)
	at bool
}

// walk visits, depth first in address order, every entry whose region
// meets [lo, hi) (lo < hi <= 1<<48) that the visitor descends to. For each
// level it keeps the table and the address its current entry maps (the
// entry's index is that address's index at the level); a table is done
// when the address reaches hi or leaves the parent entry's region.
//
// Each entry goes through step, the split-or-visit step (once, for both
// walks).
//
//go:nosplit
func (t *Tables) walk(v *visitor, lo, hi uint64) {
	var tab, at [Levels]uint64
	level := 0
	tab[0], at[0] = uint64(t.Root), lo&^(levelSize(0)-1)
	for {
		size := levelSize(level)
		eb := at[level]
		if eb >= hi || level > 0 && eb&(levelSize(level-1)-1) == 0 && eb != at[level-1] {
			if level == 0 {
				return
			}
			level--
			at[level] += levelSize(level)
			continue
		}
		ea := tab[level] + 8*index(eb, level)
		e := t.Mem.Load64(ea)
		act := t.step(v, ea, e, level, eb, lo <= eb && eb+size <= hi)
		switch act {
		case actNext:
			at[level] += size
		case actDescend:
			level++
			tab[level], at[level] = t.next(e), max(lo, eb)&^(levelSize(level)-1)
		case actStop:
			return
		}
		// actAgain: re-read the same entry.
	}
}

// step is the split-or-visit step of both walks for the entry e at ea
// (level, mapping from eb; full: the range covers all of it): an invalid
// entry fails (strict) or is skipped; a large leaf the range covers only
// in part is split when the visitor requiresSplit; anything else goes to
// the visitor.
//
//go:nosplit
func (t *Tables) step(v *visitor, ea, e uint64, level int, eb uint64, full bool) action {
	switch {
	case v.op == opLookup && v.at:
		return v.lookupAt(t, e, ea, level)
	case v.op == opLookup:
		return v.lookup(t, e, level)
	case v.op == opMap:
		return v.mapEntry(t, ea, e, level, eb)
	case v.op == opMerge:
		return v.mergeEntry(t, ea, e, level, eb)
	case !t.valid(e, level):
		if v.strict {
			v.fail = failNotMapped
			return actStop
		}
		return actNext // skipped
	case !full && t.leaf(e, level) && v.requiresSplit(t, e, level):
		if ok, err := t.split(ea, e, level); err != nil {
			v.fail = failPoolEmpty
			return actStop
		} else if ok {
			v.n += Entries + 1
		}
		return actAgain // re-read: now a writable table entry
	case v.op == opProtect:
		return v.protect(t, ea, e, level, full)
	}
	return v.release(t, ea, e, level, full)
}

// walkPage is walk over the one 4 KiB page at va (4 KiB aligned), without
// the range bookkeeping: the entries on va's path, from the root down, each
// through step until the visitor is done with one (Walk, LeafSize,
// Unprotect: the write-fault handler's walks, where every instruction and
// every byte of stack counts).
//
//go:nosplit
func (t *Tables) walkPage(v *visitor, va uint64) {
	tab, level := uint64(t.Root), 0
	for {
		ea := tab + 8*index(va, level)
		e := t.Mem.Load64(ea)
		switch t.step(v, ea, e, level, va&^(levelSize(level)-1), level == Levels-1) {
		case actDescend:
			tab = t.next(e)
			level++
		case actAgain: // re-read the same entry
		default:
			return
		}
	}
}

// requiresSplit reports whether the large leaf e, which the range covers
// only in part, must be split before the range can be changed.
//
//go:nosplit
func (v *visitor) requiresSplit(t *Tables, e uint64, level int) bool {
	if v.op == opProtect {
		return t.writable(e, level)
	}
	return !v.noSplit && !t.writable(e, level) && t.ours(e, level)
}

// lookup records one entry of the path to a leaf.
//
//go:nosplit
func (v *visitor) lookup(t *Tables, e uint64, level int) action {
	if !t.valid(e, level) {
		v.fail = failNotMapped
		return actStop
	}
	if w := v.w; w != nil {
		w.Entries[level] = e
		w.Writable = w.Writable && t.writable(e, level)
	}
	if t.leaf(e, level) {
		v.level, v.leaf = uint8(level), e
		return actStop
	}
	return actDescend
}

// lookupAt records the entry at v.level on the path (or the leaf above
// it).
//
//go:nosplit
func (v *visitor) lookupAt(t *Tables, e, ea uint64, level int) action {
	if !t.valid(e, level) {
		v.fail = failNotMapped
		return actStop
	}
	if level == int(v.level) || t.leaf(e, level) {
		v.n, v.delta, v.leaf = level, ea, e
		return actStop
	}
	return actDescend
}

// protect clears the write bit of the highest entries wholly inside the
// range; partly covered tables are descended into, partly covered
// read-only leaves left alone (writable ones were split by visit).
//
//go:nosplit
func (v *visitor) protect(t *Tables, ea, e uint64, level int, full bool) action {
	if !full {
		if t.leaf(e, level) {
			return actNext // read-only already
		}
		return actDescend
	}
	ok, wrote := t.protect(ea, e, level)
	if !ok {
		return actAgain
	}
	if wrote {
		v.n++
	}
	return actNext
}

// release makes entries this package protected writable: a wholly covered
// entry with everything below it; a partly covered read-only table after
// pushing its protection down to its children.
//
//go:nosplit
func (v *visitor) release(t *Tables, ea, e uint64, level int, full bool) action {
	if !t.writable(e, level) && !t.ours(e, level) {
		if v.strict {
			v.fail = failReadOnly
			return actStop
		}
		return actNext // read-only before Protect: leave it so
	}
	leaf := t.leaf(e, level)
	if full || leaf {
		// A partly covered leaf here is writable already, or noSplit.
		ok, wrote, ro := t.release(ea, e, level)
		if !ok {
			return actAgain
		}
		if wrote {
			v.n++
		}
		if !ro && !leaf {
			if level == Levels-2 {
				// A table of 4 KiB leaves, all in the range: release
				// them here, without a walk step each (the drain's
				// runs: one such table per 2 MiB).
				return v.releaseLeaves(t, t.next(e))
			}
			return actDescend // and everything below it
		}
		return actNext
	}
	if !t.writable(e, level) {
		t.pushDown(t.next(e), level+1)
		v.n += Entries
		ok, wrote, _ := t.release(ea, e, level)
		if !ok {
			return actAgain
		}
		if wrote {
			v.n++
		}
	}
	return actDescend
}

// releaseLeaves is release of every entry of the table of 4 KiB leaves
// at tab, all of which the range covers: what the walk would do descending
// into it (an invalid entry skipped, or a failure if strict; one read-only
// before Protect left so, or a failure if strict; one this package
// protected made writable), in a loop instead of a walk step per entry.
//
//go:nosplit
func (v *visitor) releaseLeaves(t *Tables, tab uint64) action {
	const level = Levels - 1
	for j := uint64(0); j < Entries; j++ {
		ea := tab + 8*j
		for {
			e := t.Mem.Load64(ea)
			if !t.valid(e, level) {
				if v.strict {
					v.fail = failNotMapped
					return actStop
				}
				break
			}
			if t.writable(e, level) {
				break // nothing to do (release's answer, without the call)
			}
			if !t.ours(e, level) {
				if v.strict {
					v.fail = failReadOnly
					return actStop
				}
				break
			}
			ok, wrote, _ := t.release(ea, e, level)
			if !ok {
				continue // changed meanwhile: read it again
			}
			if wrote {
				v.n++
			}
			break
		}
	}
	return actNext
}

// mapEntry creates the tables down to the new leaves' level and writes the
// leaves.
//
//go:nosplit
func (v *visitor) mapEntry(t *Tables, ea, e uint64, level int, eb uint64) action {
	if level == int(v.level) {
		t.Mem.Store64(ea, t.leafEntry(eb+v.delta, level, v.attrs))
		return actNext
	}
	if !t.valid(e, level) {
		_, nt, ok := t.Pool.alloc()
		if !ok {
			v.fail = failPoolEmpty
			return actStop
		}
		for j := uint64(0); j < Entries; j++ {
			t.Mem.Store64(nt+8*j, 0)
		}
		t.Mem.Store64(ea, t.tableEntry(nt, 0))
		t.Pool.linked()
		return actAgain
	}
	if t.leaf(e, level) {
		v.fail, v.level, v.leaf = failMapped, uint8(level), eb
		return actStop
	}
	return actDescend
}

// mergeEntry finds, at the pass's level, the next table a split made (Merge
// joins it); above that level it descends.
//
//go:nosplit
func (v *visitor) mergeEntry(t *Tables, ea, e uint64, level int, eb uint64) action {
	if !t.valid(e, level) || t.leaf(e, level) {
		return actNext
	}
	if level < int(v.level) {
		return actDescend
	}
	if !t.Pool.split(t.next(e)) {
		return actNext // a table the kernel built: not ours to join
	}
	v.n, v.delta, v.leaf, v.attrs = 1, ea, e, eb
	return actStop
}
