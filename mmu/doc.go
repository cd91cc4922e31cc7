// Package mmu walks and edits page tables in the real hardware formats —
// amd64 4-level paging (4 KiB, 2 MiB and 1 GiB pages) and arm64 stage-1
// translation tables with the 4 KiB granule (48-bit VA, levels 0-3, 1 GiB and
// 2 MiB blocks, 4 KiB pages) — over a PhysMem interface, so the same code
// runs on bare metal (direct physical access, identity mapped) and on the
// host (a simulated memory).
//
// Write protection is hierarchical. On amd64 a write is allowed only if the
// R/W bit is set at every level (Intel SDM Vol. 3A 4.6.1; for supervisor
// writes CR0.WP must be 1); on arm64 a table descriptor's APTable[1] bit
// removes write permission for everything below it (Arm ARM DDI 0487, D8.4.2
// "Hierarchical control of data access permissions"; TCR_EL1.HPD must be 0).
// Protect therefore clears the write bit at the highest entry whose whole
// region lies in the range (one entry per GiB for a gigabyte-aligned range),
// splitting a large page only where a range boundary cuts it. Making one page
// writable again (Unprotect) pushes the protection down one level at a time
// — clear the write bit in all 512 children, then set it in the parent — and
// splits a large page into 512 read-only children from a preallocated Pool.
//
// Invariant kept by every operation: a writable table entry never has a
// writable child that was not made writable on purpose; write bits are only
// ever set on a table entry after all its children are cleared (push-down)
// or, in UnprotectRange, when its whole region may become writable. All
// updates are 64-bit CAS on the entry, re-read on failure, so operations are
// safe against each other on several CPUs and when a fault interrupts an
// operation on the same CPU. A racing push-down may clear the write bit of a
// page another agent just made writable: that only causes one extra fault,
// never a missed one.
//
// arm64 break-before-make: split replaces a valid block descriptor by a
// table descriptor in one store. The Arm ARM (D8.14.1) requires
// break-before-make for a change of block size unless FEAT_BBM is
// implemented; without it a CPU may take a TLB conflict abort. QEMU TCG does
// not model this. The safe configuration on arm64 hardware is to map
// captured RAM with 4 KiB pages: protection stays hierarchical (APTable at
// table levels, so Start still touches one entry per GiB) and no split ever
// happens, only permission changes of valid entries, which need no
// break-before-make.
//
// Large mappings are restored (merge): Merge joins each table a split
// made (a Pool page allocated after Pool.Seal) back into the large leaf it
// replaced once every entry is released, and returns the pages to the
// pool — on amd64 with one store per table then a full invalidation before
// the pages are reused (SDM 4.10.2.3, 4.10.4), on arm64 with
// break-before-make (D8.14.1) and only when the caller promises nothing
// touches the region meanwhile.
//
// Protection can be prepared (prepare.go): Prepare builds, before the
// snapshot instant, the 4 KiB table each 2 MiB region that a protected
// range covers only in part will have once protected, and Apply links
// those tables at the instant with one entry each, instead of a split and
// one write per 4 KiB page; Merge puts the regions' own entries back.
//
// One split-or-visit step (step, walker.go) serves every operation — Walk,
// LeafSize, Protect, UnprotectRange, Unprotect, UnprotectLeaf, Map, and
// the lookups of Merge and Prepare — with a visitor holding the
// operation's policy (requiresSplit, visit); the range walk (walk) and the
// one-page walk of the fault path (walkPage: Walk, LeafSize, Unprotect,
// UnprotectLeaf) only choose the entries it is shown; split and pushDown
// are the one-table primitives the visitors use. One shortcut stands
// beside the walk: releasePage, the write fault's usual case (writable
// tables down to a 4 KiB leaf this package protected: one CAS), checked
// against the walk's result on random tables (TestReleasePageMatchesWalk). Addresses are
// typed (VA, PA) so they cannot be swapped, and every operation that
// changes a mapping returns a Flush, the TLB invalidation it requires,
// which the caller applies (Flush.Apply) or drops on purpose
// (Flush.Ignore); internal/flushcheck fails the tests when one is
// discarded.
//
// Unprotect and everything it calls is //go:nosplit, allocates nothing,
// stores no heap pointers and takes no locks: it runs in the write-fault
// handler (see package snapshot for why each rule holds).
package mmu

//go:generate go run mkcopy.go
