package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/bench"
)

// faultProbePages is how many pages the write-fault probe stores to.
const faultProbePages = 256

// BenchOptions configure one benchmark run (Bench).
type BenchOptions struct {
	Kernel string    // kernel ELF (kernel/cmd/pagesnap)
	RAM    string    // its RAM size as built: 256M, 1G, 2G ...
	Arch   qemu.Arch // empty: read from the ELF
	ICount bool      // TCG with -icount: guest time counts instructions
	// Share is pagesnap's drain share in percent (0: the kernel's default).
	Share int
	// Work is the guest time each throughput figure is measured over
	// (before, after); during figures span the whole snapshot.
	Work time.Duration
	// Windows is how many consecutive windows of Work the before and
	// after figures are the median of (0: 5): one window moves by a few
	// percent with where the workload's GC cycles fall.
	Windows int
	// CopyN is how many bare page copies the copy unit is the median of.
	CopyN int
	// Dir receives QEMU's snapshot files while they are measured (they
	// are removed afterwards); empty: a temporary directory.
	Dir     string
	Timeout time.Duration
	Log     io.Writer // console lines and progress (nil: discarded)
}

var (
	copyRE     = regexp.MustCompile(regexp.QuoteMeta(lines.CopyPrefix) + " |error: ")
	faultRE    = regexp.MustCompile(regexp.QuoteMeta(lines.FaultPrefix) + " n=")
	preparedRE = regexp.MustCompile(regexp.QuoteMeta(lines.FaultPrefix) + " prepared ")
	statusRE   = regexp.MustCompile(regexp.QuoteMeta(lines.StatusPrefix) + " |" + regexp.QuoteMeta(lines.CompletePrefix) + " ")
)

// Bench boots the pagesnap kernel once with a virtio-rng device, starts the
// never-blocking workload (work start cpu) and, on that one guest under
// that one workload, measures in turn: one bare 4 KiB page copy (the
// unit), the workload's throughput, a pagesnap snapshot (pause, entries,
// faults, capture and hashing time, throughput during and after), QEMU's
// own background snapshot (QMP migrate with background-snapshot to a
// file: downtime, total time, throughput during and after) and
// stop-and-copy (QMP stop, dump-guest-memory, cont: the pause). A peer
// that QEMU refuses is recorded with its exact error, not skipped; an
// error is returned only when the guest or pagesnap's own snapshot fails.
func Bench(ctx context.Context, o BenchOptions) (res *bench.Result, err error) {
	if o.Work == 0 {
		o.Work = 2 * time.Second
	}
	if o.Windows == 0 {
		o.Windows = 5
	}
	if o.Windows < 0 {
		return nil, fmt.Errorf("live: bench: %d throughput windows: want at least 1", o.Windows)
	}
	if o.CopyN == 0 {
		o.CopyN = 2000
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Hour
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.RAM == "" {
		o.RAM = "256M"
	}
	t, err := resolveTarget(o.Kernel, o.Arch, o.RAM)
	if err != nil {
		return nil, err
	}
	arch, mem := t.arch, t.mem
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pagesnap-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	vm, g, err := startVM(ctx, t, o.Kernel, o.Log, rngDevices(false), func(c *qemu.Config) { c.ICount = o.ICount })
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	g.Continue() // the gdbstub may hold the guest stopped
	res = &bench.Result{Arch: string(arch), RAM: o.RAM, Date: time.Now(), Host: hostName(), GuestMiB: mem, Workload: "cpu (work start cpu: two spinning writers, GC churn, virtio-rng DMA)", Accel: "TCG"}
	if o.ICount {
		res.Accel = "TCG -icount shift=0,sleep=off (guest time = instructions)"
	}
	progress := func(f string, a ...any) { fmt.Fprintf(o.Log, "bench: "+f+"\n", a...) }

	l, err := waitLayout(vm)
	if err != nil {
		return nil, err
	}
	for _, c := range l.Captured {
		res.CapturedMiB += c.Size >> 20
	}
	if _, err := vm.Console.ExpectString("pagesnap: ready", time.Minute); err != nil {
		return nil, err
	}
	q, err := vm.QMP()
	if err != nil {
		return nil, err
	}
	res.QEMU = q.Version()

	// The unit, on the idle guest: one bare 4 KiB copy.
	if err := vm.Send(fmt.Sprintf("bench copy %d", o.CopyN)); err != nil {
		return nil, err
	}
	cm, err := vm.Console.Expect(copyRE, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	c, err := lines.ParseCopy(cm.Line)
	if err != nil {
		return nil, fmt.Errorf("live: bench copy: %w", err)
	}
	res.CopyNs, res.CopyLoopNs = c.MemmoveNs, c.LoopNs

	if err := vm.Send(workStart("cpu")); err != nil {
		return nil, err
	}
	// Warm up (the array, the heap, TCG's translations) until two
	// consecutive measures agree within 5 %; then the baseline: the
	// median of o.Windows windows.
	prev := 0.0
	for i := 0; i < 8; i++ {
		b0, b1, err := guestSleep(vm, o.Work)
		if err != nil {
			return nil, err
		}
		w := rate(b0, b1).Writes
		progress("warm-up: %.0f writes/s", w)
		if i > 0 && w > 0 && prev/w > 0.95 && prev/w < 1.05 {
			break
		}
		prev = w
	}
	res.Windows = o.Windows
	before, rng, err := windowRate(vm, o.Work, o.Windows)
	if err != nil {
		return nil, err
	}
	res.Before, res.BeforeRange = before.Writes, rng
	progress("before: %.0f writes/s (median of %d windows, %.0f-%.0f)", res.Before, o.Windows, res.BeforeRange[0], res.BeforeRange[1])

	if err := benchPagesnap(vm, o, &res.Pagesnap, progress); err != nil {
		return res, err
	}
	res.QEMUBG = benchBackground(vm, q, o, filepath.Join(dir, "background.snap"), progress)
	res.Stop = benchStopCopy(vm, q, filepath.Join(dir, "stop-copy.elf"), progress)
	if res.Stop.Err != nil && vm.Exited() {
		return res, res.Stop.Err
	}
	vm.Send("exit 0")
	vm.Wait(time.Minute)
	return res, nil
}

// benchPagesnap takes one pagesnap snapshot under the workload and fills p.
// The end of the capture (every page copied, hashing starts) is found by
// polling snap status every 100 ms (host) while it captures; its time is
// the midpoint of the two polls around it (Pagesnap.CaptureErr: half
// their distance).
func benchPagesnap(vm *qemu.VM, o BenchOptions, p *bench.Pagesnap, progress func(string, ...any)) error {
	// The write-fault probe: pages written before the instant, stored to
	// right after it, in snap start's own call (kernel.MeasureFaults).
	if err := vm.Send(fmt.Sprintf("bench fault prepare %d", faultProbePages)); err != nil {
		return err
	}
	if _, err := vm.Console.Expect(preparedRE, 5*time.Minute); err != nil {
		return err
	}
	if err := vm.Send(snapStart("inuse", o.Share, false)); err != nil {
		return err
	}
	line, err := expectStarted(vm)
	if err != nil {
		return err
	}
	st, err := lines.ParseStarted(line)
	if err != nil {
		return err
	}
	p.PauseUs, p.Entries, p.Eager, p.Share = st.PauseMicros, st.EntriesTouched, st.Eager, st.Share
	fm, err := vm.Console.Expect(faultRE, 5*time.Minute)
	if err != nil {
		return err
	}
	if p.Fault, err = lines.ParseFault(fm.Line[strings.Index(fm.Line, "bench: "):]); err != nil {
		return err
	}
	d0, err := sampleWork(vm)
	if err != nil {
		return err
	}
	progress("pagesnap: started, pause %.0f us", p.PauseUs)
	var complete string
	lastCapturing := d0.t
	for complete == "" {
		// Poll often while capturing (the capture's end is found within
		// two polls), once a second while hashing.
		if p.Capture == 0 {
			time.Sleep(100 * time.Millisecond)
		} else {
			time.Sleep(time.Second)
		}
		if err := vm.Send("snap status"); err != nil {
			return err
		}
		m, err := vm.Console.Expect(statusRE, o.Timeout)
		if err != nil {
			return err
		}
		if strings.HasPrefix(m.Line[strings.Index(m.Line, "snap: "):], lines.CompletePrefix) {
			complete = m.Line
			break
		}
		s, err := lines.ParseStatus(m.Line[strings.Index(m.Line, lines.StatusPrefix):])
		if err != nil {
			return err
		}
		w, err := sampleWork(vm)
		if err != nil {
			return err
		}
		switch {
		case s.Phase == "capturing":
			lastCapturing = w.t
		case p.Capture == 0:
			p.Capture = time.Duration((lastCapturing+w.t)/2 - d0.t)
			p.CaptureErr = time.Duration(w.t-lastCapturing) / 2
			progress("pagesnap: capture done after about %v (guest), hashing", p.Capture)
		}
		if s.Phase == "done" {
			// The complete line came before the status answer (or
			// between it and the work line): find it in the history.
			ls := vm.Console.Lines()
			for i := len(ls) - 1; i >= 0 && complete == ""; i-- {
				if completeRE.MatchString(ls[i]) {
					complete = ls[i]
				}
			}
			if complete == "" {
				// Not yet: the finisher polls the engine every
				// 10 ms, and with the hashing done during the
				// capture the status can read done first.
				m, err := vm.Console.Expect(completeRE, time.Minute)
				if err != nil {
					return fmt.Errorf("live: bench: snap status reads done but no %q line was printed: %w", lines.CompletePrefix, err)
				}
				complete = m.Line
			}
		}
	}
	d1, err := sampleWork(vm)
	if err != nil {
		return err
	}
	p.During = rate(d0, d1).Writes
	cl, err := lines.ParseComplete(complete[strings.Index(complete, lines.CompletePrefix):])
	if err != nil {
		return err
	}
	p.Pages, p.Faults, p.FaultCopies, p.Drained, p.Total = cl.Pages, cl.Faults, cl.FaultCopies, cl.Drained, cl.Total
	p.DrainShare = cl.DrainShare
	// A complete image has every page hashed, once, by the drain.
	p.Hashed, p.DrainCopy, p.DrainHash, p.DrainProtect = cl.Pages, cl.DrainTime.Copy, cl.DrainTime.Hash, cl.DrainTime.Protect
	p.PoolUsed, p.TablesMerged, p.PoolAfter = cl.PoolUsed, cl.TablesMerged, cl.PoolAfter
	if p.Capture == 0 || p.Capture > p.Total {
		p.Capture = p.Total // hashing was never seen: too short for the poll
	}
	progress("pagesnap: complete in %v (guest)", p.Total)
	after, rng, err := windowRate(vm, o.Work, o.Windows)
	p.After, p.AfterRange = after.Writes, rng
	return err
}

// migrateInfo is the part of query-migrate's answer the bench reads.
type migrateInfo struct {
	Status    string `json:"status"`
	Downtime  int64  `json:"downtime"`   // ms
	TotalTime int64  `json:"total-time"` // ms
	ErrorDesc string `json:"error-desc"`
}

// benchBackground runs QEMU's background snapshot (QMP: capability
// background-snapshot, then migrate to exec:cat > path; QEMU 7.2 has no
// file: URI) and measures the workload during and after it.
func benchBackground(vm *qemu.VM, q *qemu.QMP, o BenchOptions, path string, progress func(string, ...any)) (r bench.Peer) {
	defer os.Remove(path)
	w0, err := sampleWork(vm)
	if err != nil {
		r.Err = err
		return
	}
	caps := map[string]any{"capabilities": []map[string]any{{"capability": "background-snapshot", "state": true}}}
	if _, err := q.Run("migrate-set-capabilities", caps); err != nil {
		r.Err = err
		return
	}
	if _, err := q.Run("migrate", map[string]any{"uri": "exec:cat > " + path}); err != nil {
		r.Err = err
		return
	}
	progress("QEMU background snapshot: started")
	var mi migrateInfo
	deadline := time.Now().Add(o.Timeout)
	for {
		out, err := q.Run("query-migrate", nil)
		if err != nil {
			r.Err = err
			return
		}
		mi = migrateInfo{}
		if err := json.Unmarshal(out, &mi); err != nil {
			r.Err = fmt.Errorf("query-migrate: %w: %s", err, out)
			return
		}
		if mi.Status == "completed" || mi.Status == "failed" || mi.Status == "cancelled" {
			break
		}
		if time.Now().After(deadline) {
			r.Err = fmt.Errorf("QEMU background snapshot: still %s after %v", mi.Status, o.Timeout)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w1, err := sampleWork(vm)
	if err != nil {
		r.Err = err
		return
	}
	if mi.Status != "completed" {
		r.Err = fmt.Errorf("QEMU background snapshot: migrate %s: %s", mi.Status, mi.ErrorDesc)
		return
	}
	if run, err := q.Running(); err == nil && !run {
		r.Err = errors.New("QEMU background snapshot: the guest was left paused after the snapshot")
		return
	}
	r.Downtime, r.Total = time.Duration(mi.Downtime)*time.Millisecond, time.Duration(mi.TotalTime)*time.Millisecond
	r.GuestTotal = time.Duration(w1.t - w0.t)
	r.During = rate(w0, w1).Writes
	if fi, err := os.Stat(path); err == nil {
		r.Bytes = fi.Size()
	}
	progress("QEMU background snapshot: completed, downtime %v, total %v", r.Downtime, r.Total)
	after, rng, err := windowRate(vm, o.Work, o.Windows)
	r.After, r.AfterRange, r.Err = after.Writes, rng, err
	return
}

// benchStopCopy pauses the guest, dumps its memory (QMP dump-guest-memory,
// an ELF file of every RAM block) and resumes it: the pause is the host
// time from stop to cont answered.
func benchStopCopy(vm *qemu.VM, q *qemu.QMP, path string, progress func(string, ...any)) (r bench.Peer) {
	defer os.Remove(path)
	t0 := time.Now()
	if err := q.Stop(); err != nil {
		r.Err = err
		return
	}
	_, err := q.Run("dump-guest-memory", map[string]any{"paging": false, "protocol": "file:" + path})
	if cerr := q.Cont(); err == nil {
		err = cerr
	}
	r.Downtime = time.Since(t0)
	r.Total = r.Downtime
	if err != nil {
		r.Err = err
		return
	}
	if fi, err := os.Stat(path); err == nil {
		r.Bytes = fi.Size()
	}
	progress("stop-and-copy: pause %v", r.Downtime)
	return
}

// hostName describes the host: CPU model and core count.
func hostName() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("host %s, %d cores", model, runtime.NumCPU())
}
