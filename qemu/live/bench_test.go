package live

import (
	"strings"
	"testing"
	"time"
)

// TestBench is make bench's smoke test: the benchmark at the smallest
// size (amd64 256M, no -icount, drain share 90 % to keep it short) must
// finish, measure every method and print every row. The figures are not
// judged here (speed goals are met in make bench's output).
func TestBench(t *testing.T) {
	k := kernelFor(t, "PAGESNAP_KERNEL_AMD64_256M")
	res, err := Bench(t.Context(), BenchOptions{Kernel: k, RAM: "256M", Share: 90, Work: time.Second, Windows: 3, Dir: t.TempDir(), Timeout: 10 * time.Minute, Log: logWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	txt := res.Text()
	t.Log("\n" + txt)
	p := res.Pagesnap
	if res.CopyNs <= 0 || res.CopyLoopNs <= 0 || res.Before <= 0 {
		t.Errorf("guest figures missing: copy %v ns, loop %v ns, before %v writes/s", res.CopyNs, res.CopyLoopNs, res.Before)
	}
	if p.PauseUs <= 0 || p.Entries == 0 || p.Pages == 0 || p.Capture <= 0 || p.Total < p.Capture || p.During <= 0 || p.After <= 0 {
		t.Errorf("pagesnap figures missing: %+v", p)
	}
	if p.DrainCopy <= 0 || p.DrainHash <= 0 || p.DrainProtect <= 0 || p.DrainProtect > p.DrainCopy || p.Hashed != p.Pages || p.DrainCopy+p.DrainHash > p.Total {
		t.Errorf("the drain's time (snap: complete drain-copy=, drain-hash=, drain-protect=): copy %v (protect %v), hash %v, %d of %d pages hashed, total %v",
			p.DrainCopy, p.DrainProtect, p.DrainHash, p.Hashed, p.Pages, p.Total)
	}
	if p.Fault.N != faultProbePages || p.Fault.StoreNs <= 0 || p.Fault.Faults > p.Fault.N {
		t.Errorf("write-fault probe: %+v", p.Fault)
	}
	if p.Drained+p.FaultCopies > p.Pages {
		t.Errorf("pagesnap: %d drained + %d fault copies > %d pages", p.Drained, p.FaultCopies, p.Pages)
	}
	if bg := res.QEMUBG; bg.Err != nil || bg.Total <= 0 || bg.GuestTotal <= 0 || bg.During <= 0 || bg.After <= 0 || bg.Bytes == 0 {
		t.Errorf("QEMU background snapshot: %+v", bg)
	}
	if st := res.Stop; st.Err != nil || st.Downtime <= 0 || st.Bytes < int64(res.GuestMiB)<<20 {
		t.Errorf("stop-and-copy: %+v (guest %d MiB)", st, res.GuestMiB)
	}
	rows := res.Rows()
	if n := strings.Count(txt, "\n"); n != len(rows)+1 {
		t.Errorf("the table has %d lines, want %d rows and the title", n, len(rows)+1)
	}
	for _, r := range rows {
		if !strings.Contains(txt, r.Figure) || r.Value == "" || r.Value == "missing" && r.Method == "pagesnap" && strings.HasPrefix(r.Note, "not timed") {
			t.Errorf("row %+v not printed", r)
		}
	}
}
