package snapshot

import (
	"reflect"
	"unsafe"

	"github.com/pagesnap/pagesnap/memrange"
)

// Owned returns the pages of the engine's own heap memory that its methods
// write while a snapshot runs: the Snapshot value (counters, drain state),
// the drain's page and header buffers, its hash states and, with the block
// backend, its request lists. A kernel that
// runs DrainStep from an interrupt handler, where a write fault on these
// would nest in the handler, puts them in the eager set (AddEager): they
// are then copied at Start and never protected.
func (s *Snapshot) Owned() []Range {
	rs := []Range{
		pagesOf(unsafe.Pointer(s), unsafe.Sizeof(*s)),
		pagesOf(unsafe.Pointer(unsafe.SliceData(s.buf)), uintptr(cap(s.buf))),
		pagesOf(unsafe.Pointer(unsafe.SliceData(s.hdr)), uintptr(cap(s.hdr))),
		pagesOf(unsafe.Pointer(unsafe.SliceData(s.sum)), uintptr(cap(s.sum))),
	}
	if cap(s.reqArg) > 0 {
		rs = append(rs, pagesOf(unsafe.Pointer(unsafe.SliceData(s.reqArg)), uintptr(cap(s.reqArg))*8),
			pagesOf(unsafe.Pointer(unsafe.SliceData(s.reqKind)), uintptr(cap(s.reqKind))))
	}
	for _, h := range []any{s.root, s.page} {
		v := reflect.ValueOf(h)
		if v.Kind() == reflect.Pointer {
			rs = append(rs, pagesOf(v.UnsafePointer(), v.Type().Elem().Size()))
		}
	}
	return memrange.MergeInPlace(rs)
}

// pagesOf returns the 4 KiB pages covering n bytes at p.
func pagesOf(p unsafe.Pointer, n uintptr) Range {
	lo := uint64(uintptr(p)) &^ 4095
	hi := (uint64(uintptr(p)) + uint64(n) + 4095) &^ 4095
	return Range{Base: lo, Size: hi - lo}
}
