package campaign

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/script"
)

// TestGenerate: a seed always gives the same scenario, different seeds
// give different ones, and every scenario is a valid script.
func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for seed := uint64(0); seed < 200; seed++ {
		a, b := Generate(seed, ArchOf(seed)), Generate(seed, ArchOf(seed))
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two scenarios:\n%v\n%v", seed, a, b)
		}
		seen[a.String()] = true
		if n := len(a.Scenario.Shots); n < 1 || n > 3 {
			t.Fatalf("seed %d: %d shots", seed, n)
		}
		s, err := script.Parse(bytes.NewReader(a.Script()))
		if err != nil {
			t.Fatalf("seed %d: script: %v\n%s", seed, err, a.Script())
		}
		if s.Arch != string(a.Arch) || s.Expect != (script.Outcome{Result: "verified"}) {
			t.Fatalf("seed %d: script arch %s expect %v", seed, s.Arch, s.Expect)
		}
	}
	if len(seen) < 190 {
		t.Fatalf("200 seeds gave %d distinct scenarios", len(seen))
	}
}

// TestCampaign runs two seeded scenarios on the real kernels, one per
// arch (make test; make campaign runs more): PAGESNAP_CAMPAIGN_SEED
// chooses the first seed, else the time does; the seeds are logged.
func TestCampaign(t *testing.T) {
	seed := uint64(time.Now().UnixNano()) &^ 1
	if v := os.Getenv("PAGESNAP_CAMPAIGN_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PAGESNAP_CAMPAIGN_SEED=%q: %v", v, err)
		}
		seed = n &^ 1
	}
	for _, s := range []uint64{seed, seed + 1} {
		r := Generate(s, ArchOf(s))
		env := "PAGESNAP_KERNEL_" + strings.ToUpper(string(r.Arch))
		t.Run(string(r.Arch), func(t *testing.T) {
			k := os.Getenv(env)
			if k == "" {
				qemu.Missing(t, "%s is not set: `make test` builds the kernels and sets it", env)
			}
			t.Logf("run %s (replay: make campaign N=1 SEED=%d)", r, s)
			var console lockedBuffer
			if err := Execute(context.Background(), r, k, nil, &console); err != nil {
				t.Fatalf("seed %d: %v\nreplay script:\n%s\nconsole:\n%s", s, err, r.Script(), console.tail(100))
			}
		})
	}
}

// lockedBuffer collects the console (written from several goroutines).
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// tail returns the last n lines.
func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(l.b.String(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// heapSeed is the campaign seed whose arm64 run reproduced the Go heap
// corruption most often (the exception entry clobbered R27, see
// TestDMAGuardHeapARM64): a CPU-bound workload, a 2000 Hz tick, a DMA hog
// allocated during the first snapshot, the hog freed, a second snapshot.
// Every snapshot still verified; the live kernel's heap was corrupt soon
// after ("fatal error: mspan.sweep: bad span state", "arena already
// initialized", a hang) in 4 of 6 runs before the fix.
const heapSeed = 1796611263

// heapRuns is how many times TestDMAGuardHeapARM64 repeats the run: with
// the failure rate of about 2 in 3 per run before the fix, 3 runs missed it
// about one time in 27.
const heapRuns = 3

// TestDMAGuardHeapARM64 replays heapSeed's first two snapshots heapRuns
// times on the arm64 kernel; each snapshot is verified bit for bit and the
// kernel must survive. It failed in about 2 runs of 3 until the exception
// entry stopped clobbering R27 (board/aarch64/vectors_arm64.s, then in board/qemu/virt; see
// TestInterruptProbesARM64 in qemu/live for the direct checks) and now
// runs in make test (about 3 minutes).
func TestDMAGuardHeapARM64(t *testing.T) {
	k := os.Getenv("PAGESNAP_KERNEL_ARM64")
	if k == "" {
		qemu.Missing(t, "PAGESNAP_KERNEL_ARM64 is not set: `make test` builds the kernels and sets it")
	}
	r := Generate(heapSeed, qemu.ARM64)
	if len(r.Scenario.Shots) < 2 || len(r.Scenario.Shots[0].After) == 0 {
		t.Fatalf("seed %d no longer generates the DMA hog scenario: %s", heapSeed, r)
	}
	r.Scenario.Shots = r.Scenario.Shots[:2]
	for i := range heapRuns {
		t.Logf("run %d/%d: %s", i+1, heapRuns, r)
		var console lockedBuffer
		if err := Execute(context.Background(), r, k, nil, &console); err != nil {
			t.Fatalf("run %d/%d: %v\nreplay script:\n%s\nlast console lines:\n%s", i+1, heapRuns, err, r.Script(), console.tail(40))
		}
	}
}
