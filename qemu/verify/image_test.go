package verify

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/pagesnap/pagesnap/snapshot"
)

// encodeImage writes a complete snapshot image of mem (physical memory
// starting at memBase) for ranges, following the storage layout documented
// in package snapshot (written from the documentation, not from the
// package's own encoder, so the two cross-check each other).
func encodeImage(t *testing.T, mem []byte, memBase uint64, pageSize uint64, ranges []snapshot.Range, instant uint64) []byte {
	t.Helper()
	l, err := snapshot.NewLayout(pageSize, ranges)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	img := make([]byte, l.Size)
	copy(img, "PAGESNAP")
	le.PutUint32(img[8:], 1)
	le.PutUint32(img[12:], 1)
	le.PutUint64(img[16:], pageSize)
	le.PutUint32(img[24:], uint32(len(ranges)))
	le.PutUint64(img[32:], l.NumPages)
	le.PutUint64(img[40:], instant)
	le.PutUint64(img[48:], l.MapOff)
	le.PutUint64(img[56:], l.ScratchOff)
	le.PutUint64(img[64:], l.DataOff)
	le.PutUint64(img[72:], l.ManifestOff)
	le.PutUint64(img[80:], l.Size)
	for i, r := range ranges {
		le.PutUint64(img[128+16*i:], r.Base)
		le.PutUint64(img[128+16*i+8:], r.Size)
	}
	root := sha256.New()
	root.Write(img[:128+16*len(ranges)]) // state still zero
	le.PutUint32(img[28:], 2)            // complete
	i := uint64(0)
	for _, r := range ranges {
		for a := r.Base; a < r.End(); a += pageSize {
			w := le.Uint64(img[l.MapOff+i/32*8:])
			le.PutUint64(img[l.MapOff+i/32*8:], w|1<<(i%32))
			pg := img[l.DataOff+i*pageSize : l.DataOff+(i+1)*pageSize]
			copy(pg, mem[a-memBase:a-memBase+pageSize])
			sum := sha256.Sum256(pg)
			copy(img[l.ManifestOff+i*32:], sum[:])
			root.Write(sum[:])
			i++
		}
	}
	copy(img[l.ManifestOff+l.NumPages*32:], root.Sum(nil))
	return img
}

// rehash recomputes page i's manifest hash and the root hash, as a buggy
// engine that copied the wrong bytes would.
func rehash(img []byte, l snapshot.Layout, nranges int) {
	root := sha256.New()
	h := append([]byte(nil), img[:128+16*nranges]...)
	clear(h[28:32])
	root.Write(h)
	for i := uint64(0); i < l.NumPages; i++ {
		sum := sha256.Sum256(img[l.DataOff+i*l.PageSize : l.DataOff+(i+1)*l.PageSize])
		copy(img[l.ManifestOff+i*32:], sum[:])
		root.Write(sum[:])
	}
	copy(img[l.ManifestOff+l.NumPages*32:], root.Sum(nil))
}
