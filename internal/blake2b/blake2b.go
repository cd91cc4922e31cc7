// Package blake2b is BLAKE2b-256 (RFC 7693, unkeyed, 32-byte digest),
// written from the RFC in plain Go: the tests' independent reference for
// the snapshot format's BLAKE2b-256 page and root hash, which
// snapshot.NewHash computes with golang.org/x/crypto/blake2b (AVX2
// assembly on amd64, about 3 times fewer guest instructions than this
// code: docs/bench). A test that checks an image's manifest against this
// package checks the engine's hashing against a second implementation,
// not against itself; its vectors come from a third (Python's hashlib).
//
// A Digest allocates nothing: Write and Sum (given a slice with room for
// 32 bytes) can run where allocation is not allowed.
package blake2b

import (
	"encoding/binary"
)

//go:generate go run gen_rounds.go

// Size is the digest size in bytes; BlockSize the compression block size.
const (
	Size      = 32
	BlockSize = 128
)

// iv is the initialization vector (RFC 7693, 2.6: the SHA-512 IV).
var iv = [8]uint64{
	0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
	0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}

// Digest is a BLAKE2b-256 hash state; it implements hash.Hash. The zero
// value is not ready: use New or Reset.
type Digest struct {
	h   [8]uint64
	t   uint64 // bytes compressed so far (the counter's high word stays 0: < 2^64 bytes)
	buf [BlockSize]byte
	n   int // bytes pending in buf (1..128 once anything was written: the last block is kept)
}

// New returns a BLAKE2b-256 digest.
func New() *Digest {
	d := new(Digest)
	d.Reset()
	return d
}

// Reset starts a new hash: h = IV with the parameter block's first word
// (digest length 32, key length 0, fanout 1, depth 1) folded in (RFC 7693,
// 2.5 and 3.3).
func (d *Digest) Reset() {
	d.h = iv
	d.h[0] ^= 0x01010000 ^ Size
	d.t, d.n = 0, 0
}

// Size returns Size.
func (d *Digest) Size() int { return Size }

// BlockSize returns BlockSize.
func (d *Digest) BlockSize() int { return BlockSize }

// Write adds p to the hash; it never fails. The last block is held back
// until Sum, which compresses it with the final flag.
func (d *Digest) Write(p []byte) (int, error) {
	n := len(p)
	if d.n > 0 {
		k := copy(d.buf[d.n:], p)
		d.n += k
		p = p[k:]
		if len(p) == 0 {
			return n, nil
		}
		d.t += BlockSize
		compress(&d.h, d.buf[:], d.t, false)
		d.n = 0
	}
	for len(p) > BlockSize {
		d.t += BlockSize
		compress(&d.h, p[:BlockSize], d.t, false)
		p = p[BlockSize:]
	}
	d.n = copy(d.buf[:], p)
	return n, nil
}

// Sum appends the digest of the data written so far to b; the state is
// unchanged.
func (d *Digest) Sum(b []byte) []byte {
	h := d.h
	var last [BlockSize]byte
	copy(last[:], d.buf[:d.n])
	compress(&h, last[:], d.t+uint64(d.n), true)
	for _, w := range h[:Size/8] {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// Sum256 returns the BLAKE2b-256 digest of data.
func Sum256(data []byte) [Size]byte {
	var d Digest
	d.Reset()
	d.Write(data)
	var out [Size]byte
	d.Sum(out[:0])
	return out
}

// compress is the function F (RFC 7693, 3.2) on one 128-byte block with
// byte counter t and the final-block flag; the rounds are in rounds.go.
func compress(h *[8]uint64, block []byte, t uint64, final bool) {
	var m, v [16]uint64
	block = block[:BlockSize]
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(block[8*i:])
	}
	copy(v[:8], h[:])
	copy(v[8:], iv[:])
	v[12] ^= t
	if final {
		v[14] = ^v[14]
	}
	rounds(&v, &m)
	for i := range h {
		h[i] ^= v[i] ^ v[i+8]
	}
}
