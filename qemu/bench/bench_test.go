package bench

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/lines"
)

func sample() *Result {
	return &Result{
		Arch: "amd64", RAM: "256M", Accel: "TCG", Date: time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC),
		Host: "host X, 2 cores", QEMU: "7.2.22", CapturedMiB: 527, GuestMiB: 1216, Workload: "cpu",
		CopyNs: 1000, CopyLoopNs: 2000, Before: 1e6,
		Pagesnap: Pagesnap{Fault: lines.Fault{N: 256, Faults: 250, MedianNs: 1500, P99Ns: 4000, MaxNs: 90000, StoreNs: 5}, PauseUs: 2500, Entries: 2176, Eager: 75, PoolUsed: 60, TablesMerged: 2, PoolAfter: 8, Pages: 135167, Faults: 10, FaultCopies: 5, Drained: 100, Share: 50,
			DrainShare: 49.5, Capture: 4 * time.Second, CaptureErr: 50 * time.Millisecond, Total: 20 * time.Second, During: 5e5, After: 9.9e5},
		QEMUBG: Peer{Downtime: 2 * time.Millisecond, Total: 1900 * time.Millisecond, GuestTotal: 10 * time.Second, During: 8e5, After: 6e5, Bytes: 5 << 20},
		Stop:   Peer{Err: errors.New("qemu: QMP dump-guest-memory: some\n refusal | here")},
	}
}

// The table has every row, with exact values and ratios, whatever failed.
func TestMarkdown(t *testing.T) {
	md := sample().Markdown()
	for _, want := range []string{
		"amd64, RAM=256M (527 MiB captured, 1216 MiB guest), TCG, workload cpu; host X, 2 cores; QEMU 7.2.22; 2026-12-07 05:00 UTC\n\n| method | figure | value | note |\n| --- | --- | --- | --- |\n",
		"| guest | bare 4 KiB copy (unit) | 1000 ns | memmove, median; the engine's page copy (mmu.Direct.Copy) 2000 ns |\n",
		"| pagesnap | pause | 2500 us | 2500 bare 4 KiB copies (guest) |\n",
		"| pagesnap | page-table entries touched | 2176 | at the instant; 75 eager pages copied |\n",
		"| pagesnap | page tables restored | 2 tables merged | at the end: table pool 8 pages in use after, 60 at most |\n",
		"| pagesnap | write-fault cost (median) | 1500 ns | 1.5 copies; 250 of 256 probe stores right after the instant faulted (the drain copied the others first); a plain store 5 ns |\n",
		"| pagesnap | write-fault cost (p99, max) | 4000 ns, 90000 ns | 4 copies, 90 copies |\n",
		"| pagesnap | capture (all pages copied and hashed) | 4.00 s | ±0.05 s; 33792 pages/s at drain share 50% (got 49.5% of the CPU until complete) |\n",
		"| pagesnap | completing step (root hash, manifest) | 16.00 s | after the capture; pages are hashed (BLAKE2b-256) while the drain copies them, within the capture |\n",
		"| pagesnap | drain, copy + hash, vs guest memcpy (estimate) | 0.0051% | 51 pages/s of drain CPU (drained pages / (capture x drain share)) vs memmove's 1000000; each drained page is also hashed (hash while hot), and the kernel does not time copy and hash apart |\n",
		"| pagesnap | hashing throughput | not separable | pages are hashed while the drain copies them: the drain row is copy + hash |\n",
		"| pagesnap | workload during / before | 0.50x | over the whole capture |\n",
		"| pagesnap | workload after / before | 0.99x |  |\n",
		"| QEMU background snapshot | downtime | 2.0 ms | host time (QEMU's clock) |\n",
		"| QEMU background snapshot | total to a complete image | 1900.0 ms | host time; 10.00 s of guest time passed; 5 MiB written |\n",
		"| QEMU background snapshot | workload after / before | 0.60x |  |\n",
		"| stop-and-copy | failed | - | qemu: QMP dump-guest-memory: some refusal \\| here |\n",
		"| pagesnap / peer | pause / QEMU downtime | 1.25x | guest us / host us |\n",
		"| guest | workload before | 1000000 writes/s | guest time |\n",
		"| pagesnap / peer | total / QEMU total (guest time) | 2.00x | both guest time; QEMU copies on host threads, outside the guest's clock under -icount |\n",
		"| pagesnap / peer | total / QEMU total (QEMU's host time) | 10.53x | pagesnap guest s / QEMU host s |\n",
		"| pagesnap / peer | after ratio / QEMU's | 1.65x |  |\n",
		"| pagesnap / peer | vs stop-and-copy | - | stop-and-copy failed |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n%s", want, md)
		}
	}
	if n := strings.Count(md, "\n| "); n != len(sample().Rows())+2 {
		t.Errorf("%d table lines, want %d rows + header + rule", n, len(sample().Rows()))
	}
}

// A failed QEMU background snapshot keeps its row, with the error.
func TestRowsPeerFailed(t *testing.T) {
	r := sample()
	r.QEMUBG = Peer{Err: errors.New("QEMU background snapshot: migrate failed: Failed to enable write tracking")}
	txt := r.Text()
	for _, want := range []string{"QEMU background snapshot  failed", "Failed to enable write tracking", "vs QEMU background snapshot", "QEMU's run failed"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q\n%s", want, txt)
		}
	}
}

func TestPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.png")
	if err := sample().Plot(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 10000 {
		t.Fatalf("not a PNG plot: %d bytes", len(b))
	}
}
