// Package campaign generates and runs seeded random snapshot scenarios on
// the real kernel: a workload mix (never-blocking, sleeping, none), the
// moment of snap start, the DMA mode and drain share, interrupt storms
// (the tick raised up to 2000 Hz), DMA allocations outside the eager set
// during the capture (dma hog), console noise, and back-to-back snapshots,
// on amd64 and arm64. Every snapshot is verified bit for bit against its
// own reference taken at its instant (live.RunScenario). A run is
// reproducible from its seed alone; a failing run can be saved as a
// fault-injection script (Run.Script) to replay with pagesnap-qemu.
package campaign

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/live"
)

// Run is one generated scenario.
type Run struct {
	Seed     uint64
	Arch     qemu.Arch
	Scenario live.Scenario
}

// ArchOf is the architecture a seed runs on when a campaign covers both:
// even seeds amd64, odd seeds arm64.
func ArchOf(seed uint64) qemu.Arch {
	if seed%2 == 0 {
		return qemu.AMD64
	}
	return qemu.ARM64
}

// Generate returns the scenario of seed on arch: the same seed always
// gives the same scenario.
func Generate(seed uint64, arch qemu.Arch) Run {
	rng := rand.New(rand.NewPCG(seed, 0x70616765736e6170)) // "pagesnap"
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	sc := live.Scenario{Workload: pick("cpu", "cpu", "sleep", "sleep", "none")}
	hogged := false
	n := 1 + rng.IntN(3)
	for range n {
		var sh live.Shot
		sh.Delay = time.Duration(rng.IntN(2000)) * time.Millisecond
		if rng.IntN(5) == 0 {
			sh.DMA = "whole"
		} else {
			sh.DMA = "inuse"
		}
		// Under TCG a 20 % share under the never-blocking workload takes
		// too long for a campaign: 50 or 90 there.
		if sc.Workload == "cpu" {
			sh.Share = []int{50, 90}[rng.IntN(2)]
		} else {
			sh.Share = []int{20, 50, 90}[rng.IntN(3)]
		}
		if hogged {
			sh.Before = append(sh.Before, "dma free")
			hogged = false
		}
		if rng.IntN(3) == 0 {
			sh.Before = append(sh.Before, fmt.Sprintf("tick hz=%d", []int{100, 250, 1000, 2000}[rng.IntN(4)]))
		}
		if rng.IntN(3) == 0 {
			sh.After = append(sh.After, fmt.Sprintf("dma hog %d", 512*(1+rng.IntN(6))))
			hogged = true
		}
		if rng.IntN(2) == 0 {
			sh.Noise = rng.IntN(30)
		}
		sc.Shots = append(sc.Shots, sh)
	}
	return Run{Seed: seed, Arch: arch, Scenario: sc}
}

// String describes the run on one line.
func (r Run) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed=%d arch=%s workload=%s", r.Seed, r.Arch, r.Scenario.Workload)
	for i, sh := range r.Scenario.Shots {
		fmt.Fprintf(&b, " | #%d delay=%v dma=%s share=%d%%", i+1, sh.Delay, sh.DMA, sh.Share)
		for _, c := range sh.Before {
			fmt.Fprintf(&b, " before=%q", c)
		}
		for _, c := range sh.After {
			fmt.Fprintf(&b, " after=%q", c)
		}
		if sh.Noise > 0 {
			fmt.Fprintf(&b, " noise=%d", sh.Noise)
		}
	}
	return b.String()
}

// Execute runs r on kernel (the 256M pagesnap kernel of r.Arch) and fails
// unless every snapshot verified bit for bit against its reference. The
// guest console goes to log (nil: nowhere) and, when console is not nil,
// into console too.
func Execute(ctx context.Context, r Run, kernel string, log io.Writer, console io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	if console != nil {
		log = io.MultiWriter(log, console)
	}
	reps, err := live.RunScenario(ctx, live.Options{Kernel: kernel, Arch: r.Arch, RAM: "256M", Log: log, Timeout: 45 * time.Minute}, r.Scenario)
	if err != nil {
		return err
	}
	if len(reps) != len(r.Scenario.Shots) {
		return fmt.Errorf("campaign: %d of %d snapshots verified", len(reps), len(r.Scenario.Shots))
	}
	for i, rep := range reps {
		if !rep.OK() || rep.Pages == 0 || rep.Matched != rep.Pages {
			return fmt.Errorf("campaign: snapshot %d: %d of %d pages match: %v", i+1, rep.Matched, rep.Pages, rep.Err())
		}
	}
	return nil
}

// machines are the script headers of the 256M kernels (the memory maps of
// qemu/scripts/snapshot-*-amd64.yaml and -arm64.yaml).
var machines = map[qemu.Arch]string{
	qemu.AMD64: `board: microvm
arch: amd64
memory: 1200M
kernel: ${PAGESNAP_KERNEL_AMD64}
regions:
  - {name: boot page tables and low memory, kind: other, base: 0, size: 0x10000000}
  - {name: runtime RAM, kind: heap, base: 0x10000000, size: 256M}
  - {name: microvm DMA window, kind: dma, base: 0x20000000, size: 16M}
`,
	qemu.ARM64: `board: virt
arch: arm64
memory: 640M
kernel: ${PAGESNAP_KERNEL_ARM64}
regions:
  - {name: device tree, kind: other, base: 0x40000000, size: 0x100000}
  - {name: runtime RAM, kind: heap, base: 0x40100000, size: 0xff00000}
  - {name: virt DMA region, kind: dma, base: 0x50000000, size: 16M}
`,
}

// Script returns r as a fault-injection script (qemu/script format) that
// replays it with pagesnap-qemu: the same commands in the same order, the
// delays as sleeps, a verify step after each snapshot.
func (r Run) Script() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Replays campaign run %s\n", r)
	fmt.Fprintf(&b, "name: campaign seed %d (%s)\n", r.Seed, r.Arch)
	b.WriteString(machines[r.Arch])
	if !r.Scenario.NoRNG {
		b.WriteString("devices: [virtio-rng-device]\nqemu_args: [-global, virtio-mmio.force-legacy=false]\n")
	}
	b.WriteString("instant: github.com/pagesnap/pagesnap/kernel.snapshotInstant\n")
	b.WriteString(`storage: {line: "storage=(0x[0-9a-f]+)\\+"}` + "\n")
	fmt.Fprintf(&b, "timeout: %dm\nsteps:\n", 10+30*len(r.Scenario.Shots))
	b.WriteString("  - expect: {re: \"pagesnap: ready\", timeout: 5m}\n")
	switch r.Scenario.Workload {
	case "none":
	case "sleep":
		b.WriteString("  - send: work start\n  - expect: {re: \"work: running=true\", timeout: 1m}\n")
	default:
		b.WriteString("  - send: work start cpu\n  - expect: {re: \"work: running=true\", timeout: 1m}\n")
	}
	for i, sh := range r.Scenario.Shots {
		for _, c := range sh.Before {
			fmt.Fprintf(&b, "  - send: %s\n", c)
		}
		if sh.Delay > 0 {
			fmt.Fprintf(&b, "  - sleep: %v\n", sh.Delay)
		}
		cmd := "snap start " + sh.DMA + fmt.Sprintf(" share=%d%%", sh.Share)
		if i > 0 {
			cmd += " overwrite"
		}
		fmt.Fprintf(&b, "  - snapshot: {command: %q, timeout: 5m, fail: \"error: \"}\n", cmd)
		b.WriteString("  - expect: {re: \"snap: started\", timeout: 5m}\n")
		for _, c := range sh.After {
			fmt.Fprintf(&b, "  - send: %s\n", c)
		}
		for range sh.Noise {
			b.WriteString("  - send: snap status\n")
		}
		b.WriteString("  - expect: {re: \"snap: complete pages=\", timeout: 30m}\n  - verify: {}\n")
	}
	b.WriteString("expect: verified\n")
	return []byte(b.String())
}
