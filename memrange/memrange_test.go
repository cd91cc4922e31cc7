package memrange

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	in := []Range{{Base: 0x5000, Size: 0x1000}, {Base: 0x1000, Size: 0x1000}, {Base: 0x2000, Size: 0x1000}, {Base: 0x4800, Size: 0x1000}, {Base: 0x9000, Size: 0}}
	orig := append([]Range(nil), in...)
	got := Merge(in)
	want := Set{{Base: 0x1000, Size: 0x2000}, {Base: 0x4800, Size: 0x1800}, {Base: 0x9000, Size: 0}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Merge = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Fatalf("Merge modified its argument: %v", in)
	}
	if Merge(nil) != nil || Merge([]Range{}) != nil {
		t.Fatal("Merge of nothing is not nil")
	}
}

func TestSubtract(t *testing.T) {
	s := Set{{Base: 0x2000, Size: 0x1000}, {Base: 0x4000, Size: 0x2000}, {Base: 0x9000, Size: 0x1000}}
	for _, c := range []struct {
		r    Range
		want []Range
	}{
		{Range{Base: 0, Size: 0x10000}, []Range{{Base: 0, Size: 0x2000}, {Base: 0x3000, Size: 0x1000}, {Base: 0x6000, Size: 0x3000}, {Base: 0xa000, Size: 0x6000}}},
		{Range{Base: 0x4000, Size: 0x2000}, nil},
		{Range{Base: 0x4800, Size: 0x2000}, []Range{{Base: 0x6000, Size: 0x800}}},
		{Range{Base: 0x6000, Size: 0x3000}, []Range{{Base: 0x6000, Size: 0x3000}}},
	} {
		if got := s.Subtract(c.r); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Subtract(%v) = %v, want %v", c.r, got, c.want)
		}
	}
}

// TestSubtractModel checks Subtract and Merge byte by byte on random sets.
func TestSubtractModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var rs []Range
		for range r.IntN(6) {
			rs = append(rs, Range{Base: uint64(r.IntN(64)), Size: uint64(r.IntN(12))})
		}
		s := Merge(rs)
		for i := 1; i < len(s); i++ {
			if s[i].Base <= s[i-1].End() {
				t.Fatalf("Merge(%v) = %v: not disjoint and non-adjacent", rs, s)
			}
		}
		x := Range{Base: uint64(r.IntN(64)), Size: uint64(r.IntN(40))}
		var in [128]bool
		for _, d := range s.Subtract(x) {
			for a := d.Base; a < d.End(); a++ {
				in[a] = true
			}
		}
		for a := uint64(0); a < 128; a++ {
			inSet := false
			for _, q := range rs {
				inSet = inSet || q.Contains(a)
			}
			if want := x.Contains(a) && !inSet; in[a] != want {
				t.Fatalf("%v minus %v: byte %d in result %v, want %v", x, rs, a, in[a], want)
			}
			if got := s.Covers(Range{Base: a, Size: 1}); got != inSet {
				t.Fatalf("Merge(%v).Covers(%d) = %v", rs, a, got)
			}
		}
	}
}

func TestRoundOut(t *testing.T) {
	win := Range{Base: 0x20000000, Size: 16 << 20}
	got := Set{
		{Base: 0x20001000, Size: 0x1000},
		{Base: 0x20100000, Size: 0x3000},   // same 2 MiB leaf: merged
		{Base: 0x20400000, Size: 0x201000}, // spans two leaves
		{Base: 0x1ff00000, Size: 0x1000},   // outside the window: clipped away
	}.RoundOut(2<<20, win)
	want := Set{{Base: 0x20000000, Size: 2 << 20}, {Base: 0x20400000, Size: 4 << 20}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RoundOut = %#v, want %#v", got, want)
	}
}

func TestSort(t *testing.T) {
	got := Sort([]Range{{Base: 3}, {Base: 1, Size: 5}, {Base: 2}})
	if want := []Range{{Base: 1, Size: 5}, {Base: 2}, {Base: 3}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Sort = %v", got)
	}
}
