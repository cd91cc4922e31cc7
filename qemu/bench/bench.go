// Package bench is the benchmark table of `make bench`: pagesnap side by
// side with QEMU's own background snapshot and with stop-and-copy, all
// measured in one run on the same guest under the same CPU-bound workload
// (qemu/live.Bench fills a Result). It formats the result as a text table,
// as markdown and as a PNG plot.
//
// Units: pagesnap's figures are guest time (with -icount, guest time counts
// instructions: 1 ns each); QEMU's downtime and total time are QEMU's own
// figures, host wall-clock time; the stop-and-copy pause is host time too.
// A value that could not be measured is a Missing row with its reason: no
// row is left out.
package bench

import (
	"fmt"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/snapshot"
	"math"
	"strings"
	"time"
)

// Result is one benchmark run.
type Result struct {
	Arch, RAM, Accel string
	Date             time.Time
	Host             string // the host machine (CPU model, cores)
	QEMU             string // QEMU's version
	CapturedMiB      uint64 // RAM pagesnap captures
	GuestMiB         int    // the guest's memory (what QEMU snapshots)
	Workload         string

	// CopyNs is one bare 4 KiB copy in the guest (memmove, median), the
	// unit; CopyLoopNs the engine's page copy, mmu.Direct.Copy (median).
	CopyNs, CopyLoopNs float64

	// Before is the workload's throughput before any snapshot (writes per
	// second of guest time): the median of Windows windows, whose lowest
	// and highest are BeforeRange.
	Before      float64
	BeforeRange [2]float64
	Windows     int

	Pagesnap Pagesnap
	QEMUBG   Peer // QEMU's background snapshot
	Stop     Peer // stop + dump-guest-memory + cont
}

// Pagesnap is pagesnap's side of the run.
type Pagesnap struct {
	// Fault is the write-fault probe: stores to protected pages right
	// after the instant, timed in the guest.
	Fault   lines.Fault
	PauseUs float64 // interrupts off at the instant (guest)
	Entries uint64  // page-table entries touched at the instant
	Eager   uint64  // pages copied at the instant
	// PoolUsed, TablesMerged, PoolAfter: the page-table pool at the end
	// (snap: complete): pages used at most, split tables joined back into
	// large pages, pages in use after that.
	PoolUsed, TablesMerged, PoolAfter uint64
	Pages                             uint64 // pages captured
	Faults                            uint64 // write faults taken
	FaultCopies                       uint64 // of which copied a page
	Drained                           uint64 // pages copied by the drain
	// Hashed is the pages the drain hashed: all Pages of a complete
	// image, each once.
	Hashed uint64
	// DrainCopy and DrainHash are the drain's own time (guest, the
	// kernel's drain clock: snap: complete's drain-copy= and drain-hash=):
	// hashing, and everything else (copying the Drained pages, the copy
	// map, page-table releases, the end's unprotect and table merge);
	// DrainProtect is the part of DrainCopy spent making pages writable
	// again (drain-protect=).
	DrainCopy, DrainHash, DrainProtect time.Duration
	Share                              int     // drain share setting, percent
	DrainShare                         float64 // CPU the drain got, percent
	// Capture is the time until every page is copied (found by polling:
	// within ±CaptureErr), Total until the image is complete.
	Capture, CaptureErr, Total time.Duration
	// During and After are the workload's throughput (writes/s, guest
	// time) over the whole capture and after the image is complete (the
	// median of Result.Windows windows, the lowest and highest in
	// AfterRange).
	During, After float64
	AfterRange    [2]float64
}

// Peer is one of the other methods.
type Peer struct {
	Err error // the method failed or was refused: the exact error
	// Downtime and Total as the method reports them (host time): QEMU's
	// query-migrate downtime and total-time; stop-and-copy's pause.
	Downtime, Total time.Duration
	// GuestTotal is the guest time that passed while it ran.
	GuestTotal    time.Duration
	During, After float64    // workload writes/s (guest time); 0: not measured
	AfterRange    [2]float64 // After's windows: lowest, highest
	Bytes         int64      // size of the file written
}

// Row is one line of the table.
type Row struct {
	Method, Figure, Value, Note string
}

// windows describes a throughput figure that is the median of r.Windows
// windows whose lowest and highest are rng, relative to base.
func (r *Result) windows(rng [2]float64, base float64) string {
	if r.Windows <= 1 || base <= 0 {
		return "one window"
	}
	return fmt.Sprintf("median of %d windows, %.3f-%.3f of before", r.Windows, rng[0]/base, rng[1]/base)
}

// Rows returns the table, every row always present (a figure not measured
// reads "missing" or "failed" with the reason).
func (r *Result) Rows() []Row {
	var rows []Row
	add := func(m, f, v, n string) { rows = append(rows, Row{m, f, v, n}) }
	p := r.Pagesnap
	units := func(us float64) string {
		if r.CopyNs <= 0 {
			return "no copy unit"
		}
		return fmt.Sprintf("%.3g copies", us*1e3/r.CopyNs)
	}
	unit := func(us float64) string {
		if r.CopyNs <= 0 {
			return "no copy unit"
		}
		return fmt.Sprintf("%.0f bare 4 KiB copies", us*1e3/r.CopyNs)
	}
	add("guest", "bare 4 KiB copy (unit)", fmt.Sprintf("%.0f ns", r.CopyNs), fmt.Sprintf("memmove, median; the engine's page copy (mmu.Direct.Copy) %.0f ns", r.CopyLoopNs))
	add("guest", "workload before", fmt.Sprintf("%.0f writes/s", r.Before), "guest time; "+r.windows(r.BeforeRange, r.Before))
	const ps = "pagesnap"
	add(ps, "pause", fmt.Sprintf("%.0f us", p.PauseUs), unit(p.PauseUs)+" (guest)")
	add(ps, "page-table entries touched", fmt.Sprint(p.Entries), fmt.Sprintf("at the instant; %d eager pages copied", p.Eager))
	add(ps, "page tables restored", fmt.Sprintf("%d tables merged", p.TablesMerged), fmt.Sprintf("at the end: table pool %d pages in use after, %d at most", p.PoolAfter, p.PoolUsed))
	add(ps, "write faults", fmt.Sprintf("%d (%d copies)", p.Faults, p.FaultCopies), fmt.Sprintf("%d pages drained of %d", p.Drained, p.Pages))
	if f := p.Fault; f.Faults == 0 {
		add(ps, "write-fault cost", "missing", fmt.Sprintf("none of the probe's %d stores right after the instant faulted: the drain had copied their pages first", f.N))
	} else {
		add(ps, "write-fault cost (median)", fmt.Sprintf("%.0f ns", f.MedianNs), fmt.Sprintf("%s; %d of %d probe stores right after the instant faulted (the drain copied the others first); a plain store %.0f ns", units(f.MedianNs/1e3), f.Faults, f.N, f.StoreNs))
		add(ps, "write-fault cost (p99, max)", fmt.Sprintf("%.0f ns, %.0f ns", f.P99Ns, f.MaxNs), units(f.P99Ns/1e3)+", "+units(f.MaxNs/1e3))
	}
	add(ps, "capture (all pages copied and hashed)", dur(p.Capture), fmt.Sprintf("±%.2f s; ", p.CaptureErr.Seconds())+rate(p.Pages, p.Capture)+fmt.Sprintf(" at drain share %d%% (got %.1f%% of the CPU until complete)", p.Share, p.DrainShare))
	add(ps, "completing step (root hash, manifest)", dur(p.Total-p.Capture), "after the capture; pages are hashed ("+snapshot.HashName(snapshot.KernelHashAlg(r.Arch))+") while the drain copies them, within the capture")
	r.drainRows(add)
	add(ps, "total to a complete image", dur(p.Total), "guest")
	add(ps, "workload during / before", ratio(p.During, r.Before), "over the whole capture")
	goal := "not met"
	if r.Before > 0 && p.After/r.Before >= 0.98 {
		goal = "met"
	}
	add(ps, "workload after / before", ratio(p.After, r.Before), r.windows(p.AfterRange, r.Before)+"; issue 13 goal ≥ 0.98x: "+goal)
	peer := func(name string, q Peer, downtime string) {
		if q.Err != nil {
			add(name, "failed", "-", oneLine(q.Err.Error()))
			return
		}
		add(name, downtime, ms(q.Downtime), "host time (QEMU's clock)")
		if name == qbg {
			add(name, "total to a complete image", ms(q.Total), fmt.Sprintf("host time; %s of guest time passed; %d MiB written", dur(q.GuestTotal), q.Bytes>>20))
			add(name, "workload during / before", ratio(q.During, r.Before), "")
			add(name, "workload after / before", ratio(q.After, r.Before), r.windows(q.AfterRange, r.Before))
		} else {
			add(name, "image size", fmt.Sprintf("%d MiB", q.Bytes>>20), "dump-guest-memory (ELF)")
		}
	}
	peer(qbg, r.QEMUBG, "downtime")
	peer(stopCopy, r.Stop, "pause")
	const ra = "pagesnap / peer"
	if r.QEMUBG.Err == nil {
		add(ra, "pause / QEMU downtime", ratio(p.PauseUs, float64(r.QEMUBG.Downtime.Microseconds())), "guest us / host us")
		add(ra, "total / QEMU total (guest time)", ratio(p.Total.Seconds(), r.QEMUBG.GuestTotal.Seconds()), "both guest time; QEMU copies on host threads, outside the guest's clock under -icount")
		add(ra, "total / QEMU total (QEMU's host time)", ratio(p.Total.Seconds(), r.QEMUBG.Total.Seconds()), "pagesnap guest s / QEMU host s")
		add(ra, "during ratio / QEMU's", ratio(p.During, r.QEMUBG.During), "")
		add(ra, "after ratio / QEMU's", ratio(p.After, r.QEMUBG.After), "")
	} else {
		add(ra, "vs QEMU background snapshot", "-", "QEMU's run failed")
	}
	if r.Stop.Err == nil {
		add(ra, "pause / stop-and-copy pause", ratio(p.PauseUs, float64(r.Stop.Downtime.Microseconds())), "guest us / host us")
	} else {
		add(ra, "vs stop-and-copy", "-", "stop-and-copy failed")
	}
	return rows
}

const (
	qbg      = "QEMU background snapshot"
	stopCopy = "stop-and-copy"
)

// Issue 13's goals for the drain: its copy at least this fraction of the
// guest's memcpy speed, and hashing no longer the larger part of its time.
const (
	goalDrainVsMemcpy = 0.70
	goalHashShare     = 0.50
)

// drainRows adds the rows of the drain's time, measured by the kernel's
// drain clock: its copy throughput against memmove's, its hashing
// throughput, both together (what the drain delivers) and the share of
// its time that is hashing.
func (r *Result) drainRows(add func(m, f, v, n string)) {
	const ps = "pagesnap"
	p := r.Pagesnap
	alg := snapshot.HashName(snapshot.KernelHashAlg(r.Arch))
	if p.DrainCopy <= 0 || p.DrainHash <= 0 || p.Drained == 0 || p.Hashed == 0 || r.CopyNs <= 0 {
		why := fmt.Sprintf("not timed: drain-copy=%v drain-hash=%v, %d pages drained, %d hashed, copy unit %.0f ns", p.DrainCopy, p.DrainHash, p.Drained, p.Hashed, r.CopyNs)
		add(ps, "drain copy throughput vs guest memcpy", "missing", why)
		add(ps, "hashing throughput", "missing", why)
		add(ps, "drain, copy + hash, vs guest memcpy", "missing", why)
		add(ps, "drain time hashing", "missing", why)
		return
	}
	memcpy := 1e9 / r.CopyNs // memmove's pages/s
	perPage := func(d time.Duration, pages uint64) float64 {
		return float64(d.Nanoseconds()) / float64(pages) / r.CopyNs
	}
	copyRate := float64(p.Drained) / p.DrainCopy.Seconds()
	add(ps, "drain copy throughput vs guest memcpy", fmt.Sprintf("%.3g%%", 100*copyRate/memcpy),
		fmt.Sprintf("%d pages copied in %s of drain time not hashing (the copies, the copy map, drained runs made writable, visits of the %d pages faults and Start copied, the end's unprotect and table merge; guest, drain clock): %.0f pages/s = %.0f MiB/s = %.2f bare copies per page: the engine's page copy itself %.2f (its own timing), making pages writable again %.2f (timed), the rest %.2f (page states, drain steps, visits); vs memmove's %.0f pages/s; issue 13 goal ≥ %.0f%%: %s",
			p.Drained, durFine(p.DrainCopy), p.Pages-p.Drained, copyRate, copyRate/256, perPage(p.DrainCopy, p.Drained), r.CopyLoopNs/r.CopyNs, perPage(p.DrainProtect, p.Drained),
			perPage(p.DrainCopy-p.DrainProtect, p.Drained)-r.CopyLoopNs/r.CopyNs, memcpy, 100*goalDrainVsMemcpy, met(copyRate >= goalDrainVsMemcpy*memcpy)))
	hashRate := float64(p.Hashed) / p.DrainHash.Seconds()
	add(ps, "hashing throughput", fmt.Sprintf("%.0f pages/s (%.0f MiB/s)", hashRate, hashRate/256),
		fmt.Sprintf("%d pages hashed (%s) in %s of drain time (page digest, root-hash update, manifest entry; guest, drain clock): %.2f bare copies per page", p.Hashed, alg, durFine(p.DrainHash), perPage(p.DrainHash, p.Hashed)))
	both := p.DrainCopy + p.DrainHash
	bothRate := float64(p.Drained) / both.Seconds()
	est := "no capture time or drain share"
	if cpu := p.Capture.Seconds() * p.DrainShare / 100; cpu > 0 {
		est = fmt.Sprintf("%.0f", float64(p.Drained)/cpu)
	}
	add(ps, "drain, copy + hash, vs guest memcpy", fmt.Sprintf("%.3g%%", 100*bothRate/memcpy),
		fmt.Sprintf("what the drain delivers: %d pages copied and all %d hashed in %s of drain time: %.0f drained pages/s (the estimate drained pages / (capture x drain share): %s) vs memmove's %.0f", p.Drained, p.Hashed, durFine(both), bothRate, est, memcpy))
	share := p.DrainHash.Seconds() / both.Seconds()
	add(ps, "drain time hashing", fmt.Sprintf("%.1f%%", 100*share),
		fmt.Sprintf("hashing / (copy + hash) drain time; issue 13 goal, hashing no longer dominates (< %.0f%%): %s", 100*goalHashShare, met(share < goalHashShare)))
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// durFine formats a duration of at least a few microseconds in seconds,
// with three significant digits.
func durFine(d time.Duration) string { return fmt.Sprintf("%.3g s", d.Seconds()) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func dur(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1e3) }

func rate(pages uint64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f pages/s", float64(pages)/d.Seconds())
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a/b) {
		return "-"
	}
	if v := math.Abs(a / b); v < 0.1 {
		return fmt.Sprintf("%.2gx", a/b)
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// Title is the run's one-line description.
func (r *Result) Title() string {
	return fmt.Sprintf("%s, RAM=%s (%d MiB captured, %d MiB guest), %s, workload %s; %s; QEMU %s; %s",
		r.Arch, r.RAM, r.CapturedMiB, r.GuestMiB, r.Accel, r.Workload, r.Host, r.QEMU, r.Date.UTC().Format("2006-01-02 15:04 UTC"))
}

// Text returns the table for a terminal.
func (r *Result) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bench: %s\n", r.Title())
	rows := r.Rows()
	w := [3]int{}
	for _, x := range rows {
		w[0], w[1], w[2] = max(w[0], len(x.Method)), max(w[1], len(x.Figure)), max(w[2], len(x.Value))
	}
	for _, x := range rows {
		fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %s\n", w[0], x.Method, w[1], x.Figure, w[2], x.Value, x.Note)
	}
	return b.String()
}

// Markdown returns the table as a markdown document section.
func (r *Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n| method | figure | value | note |\n| --- | --- | --- | --- |\n", r.Title())
	esc := strings.NewReplacer("|", `\|`)
	for _, x := range r.Rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", esc.Replace(x.Method), esc.Replace(x.Figure), esc.Replace(x.Value), esc.Replace(x.Note))
	}
	return b.String()
}
