package blake2b

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	xblake2b "golang.org/x/crypto/blake2b"
)

var _ hash.Hash = (*Digest)(nil)

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// vectors are BLAKE2b with a 32-byte digest of data(n), computed with an
// independent implementation (Python's hashlib.blake2b(digest_size=32)),
// around the 128-byte block boundaries and at one and three pages.
var vectors = []struct {
	n    int
	want string
}{
	{0, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
	{1, "e88bd757ad5b9bedf372d8d3f0cf6c962a469db61a265f6418e1ffed86da29ec"},
	{3, "9facd640130c81e7f318a8d5c660bc1b0f5d03861ffbd4cc1358e0e904593c28"},
	{127, "c9ae3859964b35f04c54b36d33cf299d7290ee621005d28e51598a943560aaaa"},
	{128, "f0501d06597880592bc49234eef100ec1ff349058d0e9d9b753504e24af86dd6"},
	{129, "a34a4e1e03c541dfbf3099c4b6c143c022ced65c28bd7e8a10e0a098461aecf0"},
	{255, "f2d64a40e9412a3414161ff6250075225418fd7c271c1123e162e1bca0de9f93"},
	{256, "d93ebb9c802f5630ab22516fd82b6c21bc8bd551d531349b715f046ed11ed871"},
	{257, "4ce481b24d387422d2bc2baa03d1afd55a1327939ff537c71eb9b38709268649"},
	{4096, "3b7dcca5dcb409b9ee1d33ac58a03966d5e86581278891945e3d2fd80e3aad58"},
	{12293, "9b68d51d78cdad8ba17de05f4e15ffe60dfa346db8c4d2a7edde1ec7714ca0f7"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		got := Sum256(data(v.n))
		if hex.EncodeToString(got[:]) != v.want {
			t.Errorf("len %d: got %x, want %s", v.n, got, v.want)
		}
	}
	// RFC 7693 has only BLAKE2b-512 vectors; "abc" with a 32-byte digest
	// from the same independent implementation.
	if got := Sum256([]byte("abc")); hex.EncodeToString(got[:]) != "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319" {
		t.Errorf("abc: %x", got)
	}
}

// TestChunked: any split of the input into Writes gives the one-shot sum;
// Sum leaves the state unchanged; Reset starts over.
func TestChunked(t *testing.T) {
	b := data(12293)
	want := Sum256(b)
	for _, chunk := range []int{1, 7, 64, 127, 128, 129, 1000, 4096} {
		d := New()
		for i := 0; i < len(b); i += chunk {
			d.Write(b[i:min(i+chunk, len(b))])
			if i == 3*chunk {
				d.Sum(nil) // must not disturb the state
			}
		}
		if got := d.Sum(nil); string(got) != string(want[:]) {
			t.Errorf("chunk %d: %x, want %x", chunk, got, want)
		}
		d.Reset()
		d.Write(b[:3])
		if got, w := d.Sum(nil), Sum256(b[:3]); string(got) != string(w[:]) {
			t.Errorf("chunk %d: after Reset %x, want %x", chunk, got, w)
		}
	}
}

// TestNoAllocations: Reset, Write and Sum into a slice with room allocate
// nothing (the snapshot drain hashes in a timer interrupt).
func TestNoAllocations(t *testing.T) {
	d, b, sum := New(), data(4096), make([]byte, 0, Size)
	if n := testing.AllocsPerRun(100, func() {
		d.Reset()
		d.Write(b)
		sum = d.Sum(sum[:0])
	}); n != 0 {
		t.Errorf("%v allocations per page hash", n)
	}
}

// sigma is the message schedule (RFC 7693, 2.7); round r uses row r mod 10.
var sigma = [10][16]uint8{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
}

// refRounds is rounds as the RFC writes it: a loop over sigma.
func refRounds(v *[16]uint64, m *[16]uint64) {
	g := func(a, b, c, d int, x, y uint64) {
		v[a] += v[b] + x
		v[d] = bits.RotateLeft64(v[d]^v[a], -32)
		v[c] += v[d]
		v[b] = bits.RotateLeft64(v[b]^v[c], -24)
		v[a] += v[b] + y
		v[d] = bits.RotateLeft64(v[d]^v[a], -16)
		v[c] += v[d]
		v[b] = bits.RotateLeft64(v[b]^v[c], -63)
	}
	for r := 0; r < 12; r++ {
		s := &sigma[r%10]
		g(0, 4, 8, 12, m[s[0]], m[s[1]])
		g(1, 5, 9, 13, m[s[2]], m[s[3]])
		g(2, 6, 10, 14, m[s[4]], m[s[5]])
		g(3, 7, 11, 15, m[s[6]], m[s[7]])
		g(0, 5, 10, 15, m[s[8]], m[s[9]])
		g(1, 6, 11, 12, m[s[10]], m[s[11]])
		g(2, 7, 8, 13, m[s[12]], m[s[13]])
		g(3, 4, 9, 14, m[s[14]], m[s[15]])
	}
}

// TestRoundsSchedule: the unrolled rounds equal the RFC's loop over sigma
// (each message word distinct, so a wrong index changes the result).
func TestRoundsSchedule(t *testing.T) {
	var v, m [16]uint64
	for i := range v {
		v[i] = uint64(i)*0x9e3779b97f4a7c15 + 1
		m[i] = uint64(i+16)*0xc2b2ae3d27d4eb4f + 3
	}
	want, got := v, v
	refRounds(&want, &m)
	rounds(&got, &m)
	if got != want {
		t.Errorf("rounds: %x, want %x", got, want)
	}
}

func BenchmarkPage(b *testing.B) {
	p := data(4096)
	for _, c := range []struct {
		name string
		h    hash.Hash
	}{{"blake2b-256", New()}, {"sha256", sha256.New()}} {
		b.Run(c.name, func(b *testing.B) {
			sum := make([]byte, 0, 32)
			b.SetBytes(4096)
			for b.Loop() {
				c.h.Reset()
				c.h.Write(p)
				sum = c.h.Sum(sum[:0])
			}
		})
	}
}

// TestRoundsGenerated: rounds.go is what gen_rounds.go writes now (run go
// generate ./internal/blake2b after changing the generator).
func TestRoundsGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rounds.go")
	if b, err := exec.Command("go", "run", "gen_rounds.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen_rounds.go: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("rounds.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("rounds.go is stale: run go generate ./internal/blake2b")
	}
}

// TestMatchesXCrypto: this package and golang.org/x/crypto/blake2b (the
// format's BLAKE2b-256, snapshot.NewHash) agree on every length from 0 to
// 3 pages in odd steps, the block boundaries and whole pages, written at
// once and in pieces.
func TestMatchesXCrypto(t *testing.T) {
	in := data(3*4096 + 1)
	for n := 0; n <= len(in); n += 1 + n/7 {
		want := xblake2b.Sum256(in[:n])
		if got := Sum256(in[:n]); got != want {
			t.Fatalf("Sum256(data(%d)) = %x, x/crypto %x", n, got, want)
		}
		d := New()
		d.Write(in[:n/3])
		d.Write(in[n/3 : n])
		if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("pieces of data(%d): %x, x/crypto %x", n, got, want)
		}
	}
}
