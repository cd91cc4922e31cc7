// Package lines defines the key=value lines pagesnap prints on the console
// and the host harness reads (qemu/live): each line is formatted and parsed
// from one definition here, on both sides.
//
//	layout: captured=LO-HI[,LO-HI...] dma=LO-HI reserved=LO-HI storage=BASE+SIZE
//	snap: started dma=MODE instant=N pause=Fus pause-ticks=N eager=N entries-touched=N dma-ranges=N share=N% [key=value...]
//	snap: complete pages=N eager=N faults=N fault-copies=N drained=N discards=N pool-used=N tables-merged=N pool-after=N total=DURATION drain-copy=DURATION drain-hash=DURATION drain-protect=DURATION drain-share=F% tick-share=F% idle-share=F% goroutine-share=F% share-setting=N% ticks=N tick-busy=N hz=N
//	snap: status phase=P dma=MODE copied=N pages=N hashed=N ... kept=BOOL drain-copy=DURATION drain-hash=DURATION drain-protect=DURATION drain-share=F% ... hz=N
//	snap: verify ok pages=N root=HEX
//	work: running=BOOL allocs=N writes=N t=NS dma-bytes=N array=BASE+SIZE mode=M dma-irqs=N dma-wakes=N
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

// Shares are the drain's shares of a capture's time so far (percent):
// the whole drain, and the timer tick's, the idle hook's and the fallback
// goroutine's parts; the share asked for; the ticks taken and those that
// found the drain busy; the tick rate. They end the snap: complete and
// snap: status lines.
type Shares struct {
	DrainShare, TickShare, IdleShare, GoroutineShare float64
	ShareSetting                                     int // the share asked for, percent
	Ticks, TickBusy                                  uint64
	Hz                                               int
}

var sharesKeys = []string{"drain-share", "tick-share", "idle-share", "goroutine-share", "share-setting", "ticks", "tick-busy", "hz"}

// String formats the shares' key=value fields.
func (s Shares) String() string {
	return fmt.Sprintf("drain-share=%.1f%% tick-share=%.1f%% idle-share=%.1f%% goroutine-share=%.1f%% share-setting=%d%% ticks=%d tick-busy=%d hz=%d",
		s.DrainShare, s.TickShare, s.IdleShare, s.GoroutineShare, s.ShareSetting, s.Ticks, s.TickBusy, s.Hz)
}

// fieldParser reads typed values out of a line's fields; the first error
// sticks.
type fieldParser struct {
	m   map[string]string
	err error
}

func (f *fieldParser) u(k string) uint64 {
	if f.err != nil {
		return 0
	}
	v, err := strconv.ParseUint(f.m[k], 10, 64)
	if err != nil {
		f.err = fmt.Errorf("%s=%q: %w", k, f.m[k], err)
	}
	return v
}

func (f *fieldParser) pct(k string) float64 {
	if f.err != nil {
		return 0
	}
	p, ok := strings.CutSuffix(f.m[k], "%")
	v, err := strconv.ParseFloat(p, 64)
	if err == nil && !ok {
		err = fmt.Errorf("%s=%q: not a percentage", k, f.m[k])
	}
	f.err = err
	return v
}

// DrainTime is where the drain's own time went so far (guest time,
// snapshot.Stats.DrainCopyTicks, DrainHashTicks and DrainProtectTicks):
// Copy is all of it but hashing (the drained pages' copies, the copy map,
// page-table releases, ...), Hash the page digests, root hash and
// manifest entries, Protect the part of Copy spent making pages writable
// again. In the snap: complete and snap: status lines, before the shares.
type DrainTime struct {
	Copy, Hash, Protect time.Duration
}

var drainTimeKeys = []string{"drain-copy", "drain-hash", "drain-protect"}

// String formats the drain time's key=value fields, in seconds (plain
// ASCII at any size: a Duration's String writes "µs" below a millisecond).
func (d DrainTime) String() string {
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" }
	return fmt.Sprintf("drain-copy=%s drain-hash=%s drain-protect=%s", secs(d.Copy), secs(d.Hash), secs(d.Protect))
}

func (f *fieldParser) dur(k string) time.Duration {
	if f.err != nil {
		return 0
	}
	d, err := time.ParseDuration(f.m[k])
	if err == nil && d < 0 {
		err = fmt.Errorf("%s=%q: negative", k, f.m[k])
	}
	f.err = err
	return d
}

func (f *fieldParser) drainTime() DrainTime {
	d := DrainTime{Copy: f.dur("drain-copy"), Hash: f.dur("drain-hash"), Protect: f.dur("drain-protect")}
	if f.err == nil && d.Protect > d.Copy {
		f.err = fmt.Errorf("drain-protect=%v exceeds drain-copy=%v, of which it is a part", d.Protect, d.Copy)
	}
	return d
}

func (f *fieldParser) shares() Shares {
	s := Shares{DrainShare: f.pct("drain-share"), TickShare: f.pct("tick-share"), IdleShare: f.pct("idle-share"), GoroutineShare: f.pct("goroutine-share")}
	s.ShareSetting = int(f.pct("share-setting"))
	s.Ticks, s.TickBusy, s.Hz = f.u("ticks"), f.u("tick-busy"), int(f.u("hz"))
	return s
}

// CompletePrefix starts the line a snapshot logs when its image is
// complete.
const CompletePrefix = "snap: complete"

// Complete is the snap: complete line: the engine's counters, the time
// from the instant to the complete image, and the drain's shares of it.
type Complete struct {
	Pages, Eager, Faults, FaultCopies, Drained, Discards, PoolUsed uint64
	// TablesMerged: split tables joined back into large pages at the end
	// (snapshot.Stats); PoolAfter: table-pool pages in use after that
	// (the boot mapping's when every split table was joined).
	TablesMerged, PoolAfter uint64
	Total                   time.Duration
	DrainTime
	Shares
}

// String formats the snap: complete line.
func (c Complete) String() string {
	return fmt.Sprintf("%s pages=%d eager=%d faults=%d fault-copies=%d drained=%d discards=%d pool-used=%d tables-merged=%d pool-after=%d total=%v %v %v",
		CompletePrefix, c.Pages, c.Eager, c.Faults, c.FaultCopies, c.Drained, c.Discards, c.PoolUsed, c.TablesMerged, c.PoolAfter, c.Total, c.DrainTime, c.Shares)
}

// ParseComplete parses a snap: complete line.
func ParseComplete(line string) (Complete, error) {
	m, err := fieldMap(line, CompletePrefix, append(append([]string{"pages", "eager", "faults", "fault-copies", "drained", "discards", "pool-used", "tables-merged", "pool-after", "total"}, drainTimeKeys...), sharesKeys...)...)
	if err != nil {
		return Complete{}, err
	}
	f := &fieldParser{m: m}
	c := Complete{Pages: f.u("pages"), Eager: f.u("eager"), Faults: f.u("faults"), FaultCopies: f.u("fault-copies"),
		Drained: f.u("drained"), Discards: f.u("discards"), PoolUsed: f.u("pool-used"),
		TablesMerged: f.u("tables-merged"), PoolAfter: f.u("pool-after"), DrainTime: f.drainTime(), Shares: f.shares()}
	err = f.err
	if err == nil {
		c.Total, err = time.ParseDuration(m["total"])
	}
	if err != nil {
		return Complete{}, fmt.Errorf("lines: %q: %w", line, err)
	}
	return c, nil
}

// StatusPrefix starts the snap status answer.
const StatusPrefix = "snap: status"

// Status is the snap status answer: the current or last snapshot's phase,
// DMA mode, progress (pages copied of all, hashed), the engine's counters,
// the idle hook's drains (this snapshot's, all), the pause, whether a
// complete image is kept, the drain's time so far and its shares.
type Status struct {
	Phase, Mode                                                string
	Copied, Pages, Hashed, Eager, Faults, FaultCopies, Drained uint64
	IdleDrains, IdleCalls, EntriesTouched                      uint64
	PauseMicros                                                float64
	Kept                                                       bool
	DrainTime
	Shares
}

var statusKeys = []string{"phase", "dma", "copied", "pages", "hashed", "eager", "faults", "fault-copies", "drained", "idle-drains", "idle-calls", "entries-touched", "pause", "kept"}

// String formats the snap status line.
func (s Status) String() string {
	return fmt.Sprintf("%s phase=%s dma=%s copied=%d pages=%d hashed=%d eager=%d faults=%d fault-copies=%d drained=%d idle-drains=%d idle-calls=%d entries-touched=%d pause=%.1fus kept=%v %v %v",
		StatusPrefix, s.Phase, s.Mode, s.Copied, s.Pages, s.Hashed, s.Eager, s.Faults, s.FaultCopies, s.Drained,
		s.IdleDrains, s.IdleCalls, s.EntriesTouched, s.PauseMicros, s.Kept, s.DrainTime, s.Shares)
}

// ParseStatus parses a snap status line.
func ParseStatus(line string) (Status, error) {
	m, err := fieldMap(line, StatusPrefix, append(append(statusKeys, drainTimeKeys...), sharesKeys...)...)
	if err != nil {
		return Status{}, err
	}
	f := &fieldParser{m: m}
	s := Status{Phase: m["phase"], Mode: m["dma"], Copied: f.u("copied"), Pages: f.u("pages"), Hashed: f.u("hashed"), Eager: f.u("eager"),
		Faults: f.u("faults"), FaultCopies: f.u("fault-copies"), Drained: f.u("drained"), IdleDrains: f.u("idle-drains"),
		IdleCalls: f.u("idle-calls"), EntriesTouched: f.u("entries-touched"), DrainTime: f.drainTime(), Shares: f.shares()}
	err = f.err
	if err == nil {
		p, ok := strings.CutSuffix(m["pause"], "us")
		if s.PauseMicros, err = strconv.ParseFloat(p, 64); !ok && err == nil {
			err = fmt.Errorf("pause=%q: not in us", m["pause"])
		}
	}
	if err == nil {
		s.Kept, err = strconv.ParseBool(m["kept"])
	}
	if err != nil {
		return Status{}, fmt.Errorf("lines: %q: %w", line, err)
	}
	return s, nil
}

// VerifiedPrefix starts the snap verify answer when the image checks.
const VerifiedPrefix = "snap: verify ok"

// Verified is the snap verify answer: the image's page count and the root
// of its manifest's hash tree (hex).
type Verified struct {
	Pages uint64
	Root  string
}

// String formats the snap verify line.
func (v Verified) String() string {
	return fmt.Sprintf("%s pages=%d root=%s", VerifiedPrefix, v.Pages, v.Root)
}

// ParseVerified parses a snap verify ok line.
func ParseVerified(line string) (Verified, error) {
	m, err := fieldMap(line, VerifiedPrefix, "pages", "root")
	if err != nil {
		return Verified{}, err
	}
	f := &fieldParser{m: m}
	v := Verified{Pages: f.u("pages"), Root: m["root"]}
	if f.err == nil && (v.Root == "" || strings.Trim(v.Root, "0123456789abcdef") != "") {
		f.err = fmt.Errorf("root=%q: not hex", v.Root)
	}
	if f.err != nil {
		return Verified{}, fmt.Errorf("lines: %q: %w", line, f.err)
	}
	return v, nil
}

// StoppedPrefix starts the line a snapshot logs when it ends without a
// complete image, followed by its phase.
const StoppedPrefix = "snap: stopped in phase"

// DiskPrefix starts the line a snapshot to disk logs after its snap:
// complete (or stopped) line.
const DiskPrefix = "snap: disk"

// Disk describes a snapshot to disk: the RAM buffer's slots, its
// high-water mark (the memory the snapshot needed for copies, in pages),
// the faults a full buffer turned away, the disk requests and the RAM
// region of the backend in bytes.
type Disk struct {
	BufferPages, HighWater, FullFaults, Writes, Reads, RAMBytes uint64
}

// String formats the snap: disk line (high-water-bytes is HighWater in
// bytes, for readers).
func (d Disk) String() string {
	return fmt.Sprintf("%s buffer-pages=%d high-water=%d high-water-bytes=%d full-faults=%d writes=%d reads=%d ram-bytes=%d",
		DiskPrefix, d.BufferPages, d.HighWater, d.HighWater*4096, d.FullFaults, d.Writes, d.Reads, d.RAMBytes)
}

// ParseDisk parses a snap: disk line.
func ParseDisk(line string) (Disk, error) {
	m, err := fieldMap(line, DiskPrefix, "buffer-pages", "high-water", "high-water-bytes", "full-faults", "writes", "reads", "ram-bytes")
	if err != nil {
		return Disk{}, err
	}
	f := &fieldParser{m: m}
	d := Disk{BufferPages: f.u("buffer-pages"), HighWater: f.u("high-water"), FullFaults: f.u("full-faults"),
		Writes: f.u("writes"), Reads: f.u("reads"), RAMBytes: f.u("ram-bytes")}
	if hb := f.u("high-water-bytes"); f.err == nil && hb != d.HighWater*4096 {
		f.err = fmt.Errorf("high-water-bytes=%d is not high-water=%d pages", hb, d.HighWater)
	}
	if f.err != nil {
		return Disk{}, fmt.Errorf("lines: %q: %w", line, f.err)
	}
	return d, nil
}

// WorkPrefix starts the work stats line of the pagesnap kernel's workload
// (kernel/cmd/pagesnap; an application's own workload prints its own).
const WorkPrefix = "work:"

// Work is the pagesnap kernel's work stats line: whether the workload
// runs, its allocation and write counters, the guest clock (nanoseconds),
// the bytes its DMA job moved, its array, its mode, the interrupts the
// DMA device raised, and the driver's waits those interrupts ended early
// (virtio.RNGStats.Woken).
type Work struct {
	Running        bool
	Allocs, Writes uint64
	T              int64
	DMABytes       uint64
	Array          Range
	Mode           string
	DMAIRQs        uint64
	DMAWakes       uint64
}

// String formats the work stats line.
func (w Work) String() string {
	return fmt.Sprintf("%s running=%v allocs=%d writes=%d t=%d dma-bytes=%d array=%#x+%#x mode=%s dma-irqs=%d dma-wakes=%d",
		WorkPrefix, w.Running, w.Allocs, w.Writes, w.T, w.DMABytes, w.Array.Base, w.Array.Size, w.Mode, w.DMAIRQs, w.DMAWakes)
}

// ParseWork parses a work stats line.
func ParseWork(line string) (Work, error) {
	m, err := fieldMap(line, WorkPrefix, "running", "allocs", "writes", "t", "dma-bytes", "array", "mode", "dma-irqs", "dma-wakes")
	if err != nil {
		return Work{}, err
	}
	f := &fieldParser{m: m}
	w := Work{Allocs: f.u("allocs"), Writes: f.u("writes"), DMABytes: f.u("dma-bytes"), Mode: m["mode"], DMAIRQs: f.u("dma-irqs"), DMAWakes: f.u("dma-wakes")}
	err = f.err
	if err == nil {
		w.Running, err = strconv.ParseBool(m["running"])
	}
	if err == nil {
		w.T, err = strconv.ParseInt(m["t"], 10, 64)
	}
	if err == nil {
		w.Array, err = span(m["array"], true)
	}
	if err != nil {
		return Work{}, fmt.Errorf("lines: %q: %w", line, err)
	}
	return w, nil
}
