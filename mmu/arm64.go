package mmu

// arm64 VMSAv8-64 stage-1 descriptor bits for the 4 KiB granule, Arm ARM
// (DDI 0487) D8.3 "Translation table descriptor formats" and D8.4 "Memory
// access control".
const (
	ARM_VALID = 1 << 0 // descriptor valid
	ARM_TABLE = 1 << 1 // levels 0-2: 1 table, 0 block; level 3: must be 1 (page)
	ARM_TYPE  = ARM_VALID | ARM_TABLE

	// Block and page descriptors, lower attributes.
	ARM_ATTRINDX = 7 << 2  // MAIR_ELx index
	ARM_NS       = 1 << 5  // non-secure
	ARM_AP1      = 1 << 6  // AP[1]: EL0 access
	ARM_AP2      = 1 << 7  // AP[2]: read-only (D8.4.1, Table D8-43)
	ARM_SH       = 3 << 8  // shareability
	ARM_AF       = 1 << 10 // access flag
	ARM_NG       = 1 << 11 // not global
	// Block and page descriptors, upper attributes.
	ARM_DBM  = 1 << 51 // dirty bit modifier: with FEAT_HAFDBS hardware may clear AP[2] on write
	ARM_CONT = 1 << 52 // contiguous hint
	ARM_PXN  = 1 << 53
	ARM_UXN  = 1 << 54
	// ARM_SWPROT (bit 55: reserved for software use in block and page
	// descriptors, ignored in table descriptors) marks an entry made
	// read-only by Protect.
	ARM_SWPROT = 1 << 55

	// Table descriptors (D8.3.1, D8.4.2).
	ARM_PXNTABLE = 1 << 59
	ARM_UXNTABLE = 1 << 60
	ARM_APTABLE1 = 1 << 62 // APTable[1]: no write access at lower levels
	ARM_NSTABLE  = 1 << 63

	// ARM_ADDR selects bits 47:12, the output address (48-bit OA).
	ARM_ADDR = 0x0000fffffffff000
)

//go:nosplit
func armLeaf(e uint64, level int) bool {
	return level == 3 || e&ARM_TABLE == 0
}

// armValid reports a usable descriptor: block descriptors exist at levels 1
// and 2 only; level 3 needs type 0b11.
//
//go:nosplit
func armValid(e uint64, level int) bool {
	if e&ARM_VALID == 0 {
		return false
	}
	if e&ARM_TABLE == 0 {
		return level == 1 || level == 2
	}
	return true
}

// armSplit returns child i of the block descriptor e at level (1 or 2). The
// contiguous hint is dropped: children may later differ in AP, which a
// contiguous set must not (D8.6.1).
//
//go:nosplit
func armSplit(e uint64, level int, i uint64) uint64 {
	size := levelSize(level + 1)
	base := e & ARM_ADDR &^ (levelSize(level) - 1)
	attrs := e &^ ARM_ADDR &^ ARM_CONT &^ ARM_TYPE
	if level == 2 {
		attrs |= ARM_TYPE // page descriptor
	} else {
		attrs |= ARM_VALID // block descriptor
	}
	return base + i*size | attrs
}

// armTable returns a writable table descriptor for table t (APTable 0, so
// the children's AP decide).
//
//go:nosplit
func armTable(t uint64) uint64 {
	return t | ARM_TYPE
}
