package mmu

import (
	"maps"
	"math/rand/v2"
	"testing"
)

// journal is a mem that remembers the first old value of every word
// written since the last undo, so a probe can be undone and its writes
// compared.
type journal struct {
	*mem
	old map[uint64]uint64
}

func (j *journal) note(pa uint64) {
	if _, ok := j.old[pa]; !ok {
		j.old[pa] = j.mem.Load64(pa)
	}
}
func (j *journal) Store64(pa, v uint64) { j.note(pa); j.mem.Store64(pa, v) }
func (j *journal) CAS64(pa, old, new uint64) bool {
	j.note(pa)
	return j.mem.CAS64(pa, old, new)
}

// undo restores the words written and returns their values before undo
// (unchanged words left out).
func (j *journal) undo() map[uint64]uint64 {
	now := map[uint64]uint64{}
	for pa, v := range j.old {
		if w := j.mem.Load64(pa); w != v {
			now[pa] = w
		}
		j.mem.Store64(pa, v)
	}
	clear(j.old)
	return now
}

// TestReleasePageMatchesWalk: releasePage (Unprotect's one-CAS case) does
// exactly what the strict release walk does wherever it reports true, and
// changes nothing where it reports false. Tables in many states: random
// Protect, UnprotectRange and Unprotect over the test address space (4 KiB,
// 2 MiB and 1 GiB leaves, kernel read-only pages, pushed-down and split
// regions), then every probe address tried both ways from the same memory.
func TestReleasePageMatchesWalk(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		fast, slow := 0, 0
		for seed := uint64(0); seed < 40; seed++ {
			r := rand.New(rand.NewPCG(seed, 11))
			tb := newTables(t, arch, 2048)
			j := &journal{tb.Mem.(*mem), map[uint64]uint64{}}
			for range 12 {
				a, b := pickAddr(r), pickAddr(r)
				if a > b {
					a, b = b, a
				}
				b = max(b, a+PageSize)
				switch r.IntN(4) {
				case 0, 1:
					tb.Protect(VA(a), b-a)
				case 2:
					tb.UnprotectRange(VA(a), b-a)
				default:
					tb.Unprotect(VA(a))
				}
			}
			for range 300 {
				va := pickAddr(r)
				tb.Mem = j
				ok := tb.releasePage(va)
				got := j.undo()
				v := visitor{op: opRelease, strict: true}
				tb.walkPage(&v, va)
				want := j.undo()
				tb.Mem = j.mem
				switch {
				case !ok && len(got) != 0:
					t.Fatalf("%v seed %d va %#x: releasePage reported false but changed the tables", arch, seed, va)
				case ok && (v.fail != failNone || !maps.Equal(got, want)):
					t.Fatalf("%v seed %d va %#x: releasePage differs from the walk (walk fail %d)", arch, seed, va, v.fail)
				}
				if ok {
					fast++
				} else {
					slow++
				}
			}
		}
		// Both outcomes must have been seen, or the test proves little.
		if fast < 100 || slow < 100 {
			t.Fatalf("%v: releasePage true %d times, false %d times: want both >= 100", arch, fast, slow)
		}
		t.Logf("%v: releasePage true %d, false %d", arch, fast, slow)
	}
}

// countMem counts the accesses to a mem.
type countMem struct {
	*mem
	loads, stores, cas int
}

func (m *countMem) Load64(pa uint64) uint64 { m.loads++; return m.mem.Load64(pa) }
func (m *countMem) Store64(pa, v uint64)    { m.stores++; m.mem.Store64(pa, v) }
func (m *countMem) CAS64(pa, old, new uint64) bool {
	m.cas++
	return m.mem.CAS64(pa, old, new)
}

// TestUnprotectUsualCost: a write fault's usual Unprotect — a 4 KiB page
// under writable tables, protected by Protect and pushed down by an
// earlier Unprotect in its table — takes releasePage's four loads and one
// CAS, and makes the page writable; one at the top of the 48-bit space
// (the address Unprotect is given keeps bits above 47, as a canonical
// upper-half address would) the same. The shortcut only saves time, so
// only a count shows that it is taken.
func TestUnprotectUsualCost(t *testing.T) {
	for _, arch := range []Arch{AMD64, ARM64} {
		for _, high := range []uint64{0, 0xffff << 48} {
			tb := newTables(t, arch, 64)
			if _, _, err := tb.Protect(2<<30, 8<<20); err != nil {
				t.Fatal(err)
			}
			if _, err := tb.Unprotect(VA(2<<30 + 4096)); err != nil { // pushes the protection down
				t.Fatal(err)
			}
			m := &countMem{mem: tb.Mem.(*mem)}
			tb.Mem = m
			f, err := tb.Unprotect(VA(high | 2<<30 + 5*4096 + 8))
			if err != nil {
				t.Fatal(err)
			}
			f.Ignore()
			if m.loads != Levels || m.cas != 1 || m.stores != 0 {
				t.Errorf("%v va %#x: Unprotect took %d loads, %d CAS, %d stores; want %d, 1, 0", arch, high, m.loads, m.cas, m.stores, Levels)
			}
			tb.Mem = m.mem
			if w, err := tb.Walk(VA(2<<30 + 5*4096)); err != nil || !w.Writable {
				t.Errorf("%v va %#x: page not writable after Unprotect (%v)", arch, high, err)
			}
		}
	}
}
