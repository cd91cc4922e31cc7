// Package imagetest encodes snapshot images for the harness's tests. It is
// written from the storage layout documented in package snapshot, not from
// that package's own (unexported) encoder, so the two cross-check each
// other.
package imagetest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/pagesnap/pagesnap/internal/blake2b"
	"github.com/pagesnap/pagesnap/snapshot"
)

// Encode returns a complete image (state complete, every page copied,
// manifest and root hash written) of ranges, whose contents are taken from
// mem, the physical memory starting at memBase. It lists no excluded range
// (header field 88 stays 0).
func Encode(mem []byte, memBase, pageSize uint64, ranges []snapshot.Range, instant uint64) ([]byte, error) {
	l, err := snapshot.NewLayout(pageSize, ranges)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	img := make([]byte, l.Size)
	copy(img, "PAGESNAP")
	le.PutUint32(img[8:], 2)  // version
	le.PutUint32(img[12:], 1) // SHA-256
	le.PutUint64(img[16:], pageSize)
	le.PutUint32(img[24:], uint32(len(ranges)))
	le.PutUint64(img[32:], l.NumPages)
	le.PutUint64(img[40:], instant)
	for i, v := range []uint64{l.MapOff, l.ScratchOff, l.DataOff, l.ManifestOff, l.Size} {
		le.PutUint64(img[48+8*i:], v)
	}
	for i, r := range ranges {
		le.PutUint64(img[128+16*i:], r.Base)
		le.PutUint64(img[128+16*i+8:], r.Size)
	}
	i := uint64(0)
	for _, r := range ranges {
		for a := r.Base; a < r.End(); a += pageSize {
			if a < memBase || a-memBase+pageSize > uint64(len(mem)) {
				return nil, fmt.Errorf("imagetest: page %#x outside memory", a)
			}
			w := le.Uint64(img[l.MapOff+i/32*8:])
			le.PutUint64(img[l.MapOff+i/32*8:], w|1<<(i%32)) // C=1, B=0
			copy(img[l.DataOff+i*pageSize:], mem[a-memBase:a-memBase+pageSize])
			i++
		}
	}
	le.PutUint32(img[28:], 2) // complete
	Rehash(img, l)
	return img, nil
}

// Rehash recomputes every page hash and the root hash from the page data,
// as an engine that copied wrong bytes but hashed what it copied would,
// with the algorithm the header records (1 SHA-256, 2 BLAKE2b-256).
func Rehash(img []byte, l snapshot.Layout) {
	newHash := map[uint32]func() hash.Hash{
		1: sha256.New,
		2: func() hash.Hash { return blake2b.New() },
	}[binary.LittleEndian.Uint32(img[12:])]
	root, page := newHash(), newHash()
	h := append([]byte(nil), img[:128+16*len(l.Ranges)]...)
	clear(h[28:32]) // state is not covered
	root.Write(h)
	for i := uint64(0); i < l.NumPages; i++ {
		page.Reset()
		page.Write(img[l.DataOff+i*l.PageSize : l.DataOff+(i+1)*l.PageSize])
		sum := page.Sum(nil)
		copy(img[l.ManifestOff+i*32:], sum)
		root.Write(sum)
	}
	copy(img[l.ManifestOff+l.NumPages*32:], root.Sum(nil))
}
