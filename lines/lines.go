// Package lines defines the key=value lines pagesnap prints on the console
// and the host harness reads (qemu/live): each line is formatted and parsed
// from one definition here, on both sides.
//
//	layout: captured=LO-HI[,LO-HI...] dma=LO-HI reserved=LO-HI storage=BASE+SIZE
//	snap: started dma=MODE instant=N pause=Fus pause-ticks=N eager=N entries-touched=N dma-ranges=N share=N% [key=value...]
//	snap: complete pages=N eager=N faults=N fault-copies=N drained=N discards=N pool-used=N total=DURATION drain-share=F% tick-share=F% idle-share=F% goroutine-share=F% share-setting=N% ticks=N tick-busy=N hz=N
package lines

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/snapshot"
)

// Range is a physical address range.
type Range = snapshot.Range

// Prefixes of the lines.
const (
	LayoutPrefix  = "layout:"
	StartedPrefix = "snap: started"
)

// Fields returns the key=value fields that follow prefix in line (the
// prefix may come after a prompt), in order.
func Fields(line, prefix string) ([][2]string, error) {
	i := strings.Index(line, prefix+" ")
	if i < 0 {
		return nil, fmt.Errorf("lines: not a %q line: %q", prefix, line)
	}
	var kv [][2]string
	for _, f := range strings.Fields(line[i+len(prefix):]) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("lines: %q line: field %q is not key=value", prefix, f)
		}
		kv = append(kv, [2]string{k, v})
	}
	return kv, nil
}

func fieldMap(line, prefix string, keys ...string) (map[string]string, error) {
	kv, err := Fields(line, prefix)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, f := range kv {
		m[f[0]] = f[1]
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("lines: %q line lacks %s=: %q", prefix, k, line)
		}
	}
	return m, nil
}

func hex(s string) (uint64, error) {
	if !strings.HasPrefix(s, "0x") {
		return 0, fmt.Errorf("lines: %q is not a 0x number", s)
	}
	return strconv.ParseUint(s[2:], 16, 64)
}

// span parses LO-HI (or BASE+SIZE with plus).
func span(s string, plus bool) (Range, error) {
	sep := "-"
	if plus {
		sep = "+"
	}
	a, b, ok := strings.Cut(s, sep)
	if !ok {
		return Range{}, fmt.Errorf("lines: bad range %q", s)
	}
	lo, err := hex(a)
	if err != nil {
		return Range{}, err
	}
	hi, err := hex(b)
	if err != nil {
		return Range{}, err
	}
	if plus {
		return Range{Base: lo, Size: hi}, nil
	}
	if hi < lo {
		return Range{}, fmt.Errorf("lines: bad range %q", s)
	}
	return Range{Base: lo, Size: hi - lo}, nil
}

func spanString(r Range) string { return fmt.Sprintf("%#x-%#x", r.Base, r.End()) }

// Layout is pagesnap's memory plan: the layout: line.
type Layout struct {
	Captured []Range
	DMA      Range
	Reserved Range
	Storage  Range
}

// String formats the layout: line.
func (l Layout) String() string {
	caps := make([]string, len(l.Captured))
	for i, r := range l.Captured {
		caps[i] = spanString(r)
	}
	return fmt.Sprintf("%s captured=%s dma=%s reserved=%s storage=%#x+%#x", LayoutPrefix,
		strings.Join(caps, ","), spanString(l.DMA), spanString(l.Reserved), l.Storage.Base, l.Storage.Size)
}

// ParseLayout parses a layout: line.
func ParseLayout(line string) (Layout, error) {
	m, err := fieldMap(line, LayoutPrefix, "captured", "dma", "reserved", "storage")
	if err != nil {
		return Layout{}, err
	}
	var l Layout
	for _, c := range strings.Split(m["captured"], ",") {
		r, err := span(c, false)
		if err != nil {
			return Layout{}, err
		}
		l.Captured = append(l.Captured, r)
	}
	if l.DMA, err = span(m["dma"], false); err != nil {
		return Layout{}, err
	}
	if l.Reserved, err = span(m["reserved"], false); err != nil {
		return Layout{}, err
	}
	if l.Storage, err = span(m["storage"], true); err != nil {
		return Layout{}, err
	}
	return l, nil
}

// Started is the snap: started line.
type Started struct {
	Mode           string  // DMA mode: inuse, whole, none
	Instant        uint64  // the engine's clock at the instant
	PauseMicros    float64 // interrupts off in Start
	PauseTicks     uint64
	Eager          uint64 // pages copied at the instant
	EntriesTouched uint64 // page-table entries written
	DMARanges      int
	Share          int // the drain share, percent
	// Extra are fields an application appends (the pagesnap kernel:
	// mark=0x...), in order.
	Extra [][2]string
}

// String formats the snap: started line.
func (s Started) String() string {
	l := fmt.Sprintf("%s dma=%s instant=%d pause=%.1fus pause-ticks=%d eager=%d entries-touched=%d dma-ranges=%d share=%d%%",
		StartedPrefix, s.Mode, s.Instant, s.PauseMicros, s.PauseTicks, s.Eager, s.EntriesTouched, s.DMARanges, s.Share)
	for _, kv := range s.Extra {
		l += " " + kv[0] + "=" + kv[1]
	}
	return l
}

var startedKeys = []string{"dma", "instant", "pause", "pause-ticks", "eager", "entries-touched", "dma-ranges", "share"}

// ParseStarted parses a snap: started line.
func ParseStarted(line string) (Started, error) {
	kv, err := Fields(line, StartedPrefix)
	if err != nil {
		return Started{}, err
	}
	m, err := fieldMap(line, StartedPrefix, startedKeys...)
	if err != nil {
		return Started{}, err
	}
	s := Started{Mode: m["dma"]}
	num := func(k string) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = strconv.ParseUint(m[k], 10, 64)
		return v
	}
	s.Instant, s.PauseTicks, s.Eager, s.EntriesTouched = num("instant"), num("pause-ticks"), num("eager"), num("entries-touched")
	s.DMARanges = int(num("dma-ranges"))
	if err != nil {
		return Started{}, fmt.Errorf("lines: %q: %w", line, err)
	}
	p, ok := strings.CutSuffix(m["pause"], "us")
	if s.PauseMicros, err = strconv.ParseFloat(p, 64); !ok || err != nil {
		return Started{}, fmt.Errorf("lines: %q: bad pause %q", line, m["pause"])
	}
	sh, ok := strings.CutSuffix(m["share"], "%")
	if s.Share, err = strconv.Atoi(sh); !ok || err != nil {
		return Started{}, fmt.Errorf("lines: %q: bad share %q", line, m["share"])
	}
	for _, f := range kv {
		known := false
		for _, k := range startedKeys {
			known = known || f[0] == k
		}
		if !known {
			s.Extra = append(s.Extra, f)
		}
	}
	return s, nil
}

// CompletePrefix starts the line a snapshot logs when its image is
// complete.
const CompletePrefix = "snap: complete"

// Complete is the snap: complete line: the engine's counters, the time
// from the instant to the complete image, and the drain's shares of it.
type Complete struct {
	Pages, Eager, Faults, FaultCopies, Drained, Discards, PoolUsed uint64
	Total                                                          time.Duration
	// Shares of the capture's time (percent): the whole drain, and the
	// timer tick's, the idle hook's and the fallback goroutine's parts.
	DrainShare, TickShare, IdleShare, GoroutineShare float64
	ShareSetting                                     int // the share asked for, percent
	Ticks, TickBusy                                  uint64
	Hz                                               int
}

// String formats the snap: complete line.
func (c Complete) String() string {
	return fmt.Sprintf("%s pages=%d eager=%d faults=%d fault-copies=%d drained=%d discards=%d pool-used=%d total=%v "+
		"drain-share=%.1f%% tick-share=%.1f%% idle-share=%.1f%% goroutine-share=%.1f%% share-setting=%d%% ticks=%d tick-busy=%d hz=%d",
		CompletePrefix, c.Pages, c.Eager, c.Faults, c.FaultCopies, c.Drained, c.Discards, c.PoolUsed, c.Total,
		c.DrainShare, c.TickShare, c.IdleShare, c.GoroutineShare, c.ShareSetting, c.Ticks, c.TickBusy, c.Hz)
}

// ParseComplete parses a snap: complete line.
func ParseComplete(line string) (Complete, error) {
	m, err := fieldMap(line, CompletePrefix, "pages", "eager", "faults", "fault-copies", "drained", "discards", "pool-used", "total",
		"drain-share", "tick-share", "idle-share", "goroutine-share", "share-setting", "ticks", "tick-busy", "hz")
	if err != nil {
		return Complete{}, err
	}
	var c Complete
	u := func(k string) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		if v, err = strconv.ParseUint(m[k], 10, 64); err != nil {
			err = fmt.Errorf("%s=%q: %w", k, m[k], err)
		}
		return v
	}
	pct := func(k string) float64 {
		if err != nil {
			return 0
		}
		p, ok := strings.CutSuffix(m[k], "%")
		var v float64
		if v, err = strconv.ParseFloat(p, 64); err == nil && !ok {
			err = fmt.Errorf("%s=%q: not a percentage", k, m[k])
		}
		return v
	}
	c.Pages, c.Eager, c.Faults, c.FaultCopies = u("pages"), u("eager"), u("faults"), u("fault-copies")
	c.Drained, c.Discards, c.PoolUsed = u("drained"), u("discards"), u("pool-used")
	c.DrainShare, c.TickShare, c.IdleShare, c.GoroutineShare = pct("drain-share"), pct("tick-share"), pct("idle-share"), pct("goroutine-share")
	c.ShareSetting = int(pct("share-setting"))
	c.Ticks, c.TickBusy, c.Hz = u("ticks"), u("tick-busy"), int(u("hz"))
	if err == nil {
		c.Total, err = time.ParseDuration(m["total"])
	}
	if err != nil {
		return Complete{}, fmt.Errorf("lines: %q: %w", line, err)
	}
	return c, nil
}
