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
	c := Complete{Pages: 135167, Eager: 1544, Faults: 30211, FaultCopies: 30100, Drained: 103523, Discards: 2, PoolUsed: 17, TablesMerged: 9, PoolAfter: 8,
		Total: 41234 * time.Millisecond, DrainTime: DrainTime{Copy: 1234567 * time.Microsecond, Hash: 18*time.Second + 3*time.Nanosecond, Protect: 345 * time.Millisecond}, Shares: Shares{DrainShare: 48.2, TickShare: 40.1, IdleShare: 8.1, GoroutineShare: 0,
			ShareSetting: 50, Ticks: 4123, TickBusy: 3, Hz: 100}}
	const want = "snap: complete pages=135167 eager=1544 faults=30211 fault-copies=30100 drained=103523 discards=2 pool-used=17 tables-merged=9 pool-after=8 total=41.234s drain-copy=1.234567s drain-hash=18.000000003s drain-protect=0.345s drain-share=48.2% tick-share=40.1% idle-share=8.1% goroutine-share=0.0% share-setting=50% ticks=4123 tick-busy=3 hz=100"
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
		strings.Replace(want, " drain-copy=1.234567s", "", 1),
		strings.Replace(want, "drain-hash=18.000000003s", "drain-hash=18", 1),
		strings.Replace(want, "drain-hash=18.000000003s", "drain-hash=-1s", 1),
		strings.Replace(want, " drain-protect=0.345s", "", 1),
		strings.Replace(want, "drain-protect=0.345s", "drain-protect=2s", 1),
	} {
		if _, err := ParseComplete(bad); err == nil {
			t.Errorf("ParseComplete(%q) accepted", bad)
		}
	}
}

func TestStatusRoundTrip(t *testing.T) {
	s := Status{Phase: "drain", Mode: "inuse", Copied: 5000, Pages: 135167, Hashed: 4000, Eager: 1544, Faults: 200, FaultCopies: 190,
		Drained: 3266, IdleDrains: 12, IdleCalls: 40, EntriesTouched: 13, PauseMicros: 2612.5, Kept: false,
		DrainTime: DrainTime{Copy: 12 * time.Millisecond, Hash: 250 * time.Millisecond, Protect: 1500 * time.Microsecond},
		Shares:    Shares{DrainShare: 20.5, TickShare: 19.0, IdleShare: 1.5, ShareSetting: 20, Ticks: 31, TickBusy: 0, Hz: 100}}
	const want = "snap: status phase=drain dma=inuse copied=5000 pages=135167 hashed=4000 eager=1544 faults=200 fault-copies=190 drained=3266 idle-drains=12 idle-calls=40 entries-touched=13 pause=2612.5us kept=false drain-copy=0.012s drain-hash=0.25s drain-protect=0.0015s drain-share=20.5% tick-share=19.0% idle-share=1.5% goroutine-share=0.0% share-setting=20% ticks=31 tick-busy=0 hz=100"
	if got := s.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	back, err := ParseStatus("> " + want)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("ParseStatus = %+v, %v; want %+v", back, err, s)
	}
	for _, bad := range []string{
		strings.Replace(want, " kept=false", "", 1),
		strings.Replace(want, "kept=false", "kept=maybe", 1),
		strings.Replace(want, "pause=2612.5us", "pause=2612.5", 1),
		strings.Replace(want, "copied=5000", "copied=5000/135167", 1),
		strings.Replace(want, "hz=100", "hz=x", 1),
		strings.Replace(want, " drain-hash=0.25s", "", 1),
		strings.Replace(want, "drain-copy=0.012s", "drain-copy=0.012", 1),
	} {
		if _, err := ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q) accepted", bad)
		}
	}
}

func TestVerifiedRoundTrip(t *testing.T) {
	v := Verified{Pages: 135167, Root: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
	want := "snap: verify ok pages=135167 root=" + v.Root
	if got := v.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	back, err := ParseVerified(want)
	if err != nil || back != v {
		t.Fatalf("ParseVerified = %+v, %v; want %+v", back, err, v)
	}
	for _, bad := range []string{
		"error: snap: image not complete (phase drain)",
		"snap: verify ok pages=12",
		"snap: verify ok pages=12 root=XYZ",
		"snap: verify ok pages=x root=00",
	} {
		if _, err := ParseVerified(bad); err == nil {
			t.Errorf("ParseVerified(%q) accepted", bad)
		}
	}
}

func TestDiskRoundTrip(t *testing.T) {
	d := Disk{BufferPages: 6758, HighWater: 6750, FullFaults: 67043, Writes: 3411, Reads: 3380, RAMBytes: 28311552}
	want := "snap: disk buffer-pages=6758 high-water=6750 high-water-bytes=27648000 full-faults=67043 writes=3411 reads=3380 ram-bytes=28311552"
	if got := d.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	back, err := ParseDisk(want)
	if err != nil || back != d {
		t.Fatalf("ParseDisk = %+v, %v; want %+v", back, err, d)
	}
	for _, bad := range []string{
		"snap: complete pages=1",
		"snap: disk buffer-pages=1 high-water=1 high-water-bytes=4096 full-faults=0 writes=0 reads=0",
		"snap: disk buffer-pages=1 high-water=1 high-water-bytes=4095 full-faults=0 writes=0 reads=0 ram-bytes=0",
		"snap: disk buffer-pages=x high-water=1 high-water-bytes=4096 full-faults=0 writes=0 reads=0 ram-bytes=0",
	} {
		if _, err := ParseDisk(bad); err == nil {
			t.Errorf("ParseDisk(%q) accepted", bad)
		}
	}
}

func TestWorkRoundTrip(t *testing.T) {
	w := Work{Running: true, Allocs: 1234, Writes: 99999, T: 1733540000123456789, DMABytes: 4096, Array: Range{Base: 0x12340000, Size: 0x100000}, Mode: "cpu", DMAIRQs: 7, DMAWakes: 5}
	const want = "work: running=true allocs=1234 writes=99999 t=1733540000123456789 dma-bytes=4096 array=0x12340000+0x100000 mode=cpu dma-irqs=7 dma-wakes=5"
	if got := w.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	back, err := ParseWork(want)
	if err != nil || back != w {
		t.Fatalf("ParseWork = %+v, %v; want %+v", back, err, w)
	}
	for _, bad := range []string{
		strings.Replace(want, "running=true", "running=yes", 1),
		strings.Replace(want, "array=0x12340000+0x100000", "array=0x12340000", 1),
		strings.Replace(want, " dma-irqs=7", "", 1),
		strings.Replace(want, " dma-wakes=5", "", 1),
		strings.Replace(want, "t=1733540000123456789", "t=soon", 1),
	} {
		if _, err := ParseWork(bad); err == nil {
			t.Errorf("ParseWork(%q) accepted", bad)
		}
	}
}
