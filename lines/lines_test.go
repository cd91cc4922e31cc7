package lines

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLayoutRoundTrip(t *testing.T) {
	l := Layout{
		Captured: []Range{{Base: 0x1000, Size: 0x9f000}, {Base: 0x100000, Size: 0x40f00000}},
		DMA:      Range{Base: 0x40000000, Size: 0x1000000},
		Reserved: Range{Base: 0x41000000, Size: 0xa00000},
		Storage:  Range{Base: 0x41a00000, Size: 0x41832000},
	}
	const want = "layout: captured=0x1000-0xa0000,0x100000-0x41000000 dma=0x40000000-0x41000000 reserved=0x41000000-0x41a00000 storage=0x41a00000+0x41832000"
	if got := l.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	back, err := ParseLayout("> " + want)
	if err != nil || !reflect.DeepEqual(back, l) {
		t.Fatalf("ParseLayout = %+v, %v; want %+v", back, err, l)
	}
	for _, bad := range []string{
		"layout captured=0x1000-0x2000",
		"layout: captured=0x1000-0x2000 dma=0x2000-0x3000 reserved=0x3000-0x4000",
		"layout: captured=0x2000-0x1000 dma=0x2000-0x3000 reserved=0x3000-0x4000 storage=0x4000+0x1000",
		"layout: captured=0x1000-0x2000 dma=2000-0x3000 reserved=0x3000-0x4000 storage=0x4000+0x1000",
		"layout: captured=0x1000-0x2000 dma=0x2000-0x3000 reserved=0x3000-0x4000 storage=0x4000-0x5000",
		"layout: captured=0x1000-0x2000 junk dma=0x2000-0x3000 reserved=0x3000-0x4000 storage=0x4000+0x1000",
	} {
		if _, err := ParseLayout(bad); err == nil {
			t.Errorf("ParseLayout(%q) accepted", bad)
		}
	}
}

func TestStartedRoundTrip(t *testing.T) {
	s := Started{Mode: "inuse", Instant: 123456789, PauseMicros: 2612.5, PauseTicks: 6771, Eager: 1544,
		EntriesTouched: 13, DMARanges: 2, Share: 20, Extra: [][2]string{{"mark", "0x706322d184fbc263"}}}
	const want = "snap: started dma=inuse instant=123456789 pause=2612.5us pause-ticks=6771 eager=1544 entries-touched=13 dma-ranges=2 share=20% mark=0x706322d184fbc263"
	if got := s.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	back, err := ParseStarted("> " + want)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("ParseStarted = %+v, %v; want %+v", back, err, s)
	}
	for _, bad := range []string{
		"snap: started dma=inuse instant=1 pause=2.0 pause-ticks=1 eager=1 entries-touched=1 dma-ranges=0 share=20%",
		"snap: started dma=inuse instant=x pause=2.0us pause-ticks=1 eager=1 entries-touched=1 dma-ranges=0 share=20%",
		"snap: started dma=inuse instant=1 pause=2.0us pause-ticks=1 eager=1 entries-touched=1 dma-ranges=0 share=20",
		"snap: started dma=inuse instant=1 pause=2.0us eager=1 entries-touched=1 dma-ranges=0 share=20%",
		"snap: start dma=inuse",
	} {
		if _, err := ParseStarted(bad); err == nil {
			t.Errorf("ParseStarted(%q) accepted", bad)
		}
	}
}

func TestCompleteRoundTrip(t *testing.T) {
	c := Complete{Pages: 135167, Eager: 1544, Faults: 30211, FaultCopies: 30100, Drained: 103523, Discards: 2, PoolUsed: 17,
		Total: 41234 * time.Millisecond, DrainShare: 48.2, TickShare: 40.1, IdleShare: 8.1, GoroutineShare: 0,
		ShareSetting: 50, Ticks: 4123, TickBusy: 3, Hz: 100}
	const want = "snap: complete pages=135167 eager=1544 faults=30211 fault-copies=30100 drained=103523 discards=2 pool-used=17 total=41.234s drain-share=48.2% tick-share=40.1% idle-share=8.1% goroutine-share=0.0% share-setting=50% ticks=4123 tick-busy=3 hz=100"
	if got := c.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	back, err := ParseComplete(want)
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Fatalf("ParseComplete = %+v, %v; want %+v", back, err, c)
	}
	for _, bad := range []string{
		want[:len(want)-len(" hz=100")],
		strings.Replace(want, "total=41.234s", "total=41", 1),
		strings.Replace(want, "tick-share=40.1%", "tick-share=40.1", 1),
		strings.Replace(want, "pages=135167", "pages=-1", 1),
	} {
		if _, err := ParseComplete(bad); err == nil {
			t.Errorf("ParseComplete(%q) accepted", bad)
		}
	}
}
