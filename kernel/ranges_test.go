package kernel

import (
	"reflect"
	"testing"
)

func TestRoundOut(t *testing.T) {
	win := Range{Base: 0x20000000, Size: 16 << 20}
	got := RoundOut([]Range{
		{Base: 0x20001000, Size: 0x1000},
		{Base: 0x20100000, Size: 0x3000},   // same 2 MiB leaf: merged
		{Base: 0x20400000, Size: 0x201000}, // spans two leaves
		{Base: 0x1ff00000, Size: 0x1000},   // outside the window: clipped away
	}, 2<<20, win)
	want := []Range{{Base: 0x20000000, Size: 2 << 20}, {Base: 0x20400000, Size: 4 << 20}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RoundOut = %#v, want %#v", got, want)
	}
}
