//go:build tamago

package preload

import (
	"bytes"
	"unsafe"
)

// Blob returns the archive of the blob at physical address addr (identity
// mapped, as on pagesnap's boards before kernel.Setup), or ErrNoBlob. The
// slice aliases that memory: extract it (Tar) before anything reuses it.
func Blob(addr uintptr) ([]byte, error) {
	h := unsafe.Slice((*byte)(physPtr(addr)), HeaderSize)
	n, err := Length(h)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(physPtr(addr+uintptr(HeaderSize))), n), nil
}

// physPtr returns a pointer to physical address a (not Go memory; see
// preload/early's physPtr).
func physPtr(a uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a))
}

// LoadBlob extracts the blob at addr (Blob) under dir (Tar).
func LoadBlob(addr uintptr, dir string) error {
	b, err := Blob(addr)
	if err != nil {
		return err
	}
	return Tar(bytes.NewReader(b), dir)
}
