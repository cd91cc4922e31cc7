// Command pagesnap-campaign runs a seeded campaign of random snapshot
// scenarios on the real kernels (package qemu/campaign) and prints one
// line per run, then "N passed, N failed". Run i uses seed SEED+i; with
// -arch both even seeds run on amd64 and odd seeds on arm64, so any run
// is replayed alone with -n 1 -seed S. A failing run's scenario is saved
// as a fault-injection script in -out (campaign-seed-S.yaml), its guest
// console beside it (campaign-seed-S.console).
//
//	pagesnap-campaign -n 20 -seed 1234 [-arch both|amd64|arm64] [-out build] [-v]
//
// The kernels are $PAGESNAP_KERNEL_AMD64 and $PAGESNAP_KERNEL_ARM64 (the
// 256M builds; make campaign sets them).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/campaign"
)

func main() {
	n := flag.Int("n", 10, "number of runs")
	seed := flag.Uint64("seed", uint64(time.Now().Unix()), "seed of the first run (run i: seed+i)")
	arch := flag.String("arch", "both", "amd64, arm64 or both (even seeds amd64, odd arm64)")
	out := flag.String("out", "build", "directory for the scripts of failing runs")
	verbose := flag.Bool("v", false, "copy the guest consoles to standard output")
	flag.Parse()
	if *arch != "both" && *arch != "amd64" && *arch != "arm64" {
		fmt.Fprintf(os.Stderr, "pagesnap-campaign: -arch %q: want amd64, arm64 or both\n", *arch)
		os.Exit(2)
	}
	fmt.Printf("campaign: %d runs from seed %d (arch %s)\n", *n, *seed, *arch)
	passed, failed := 0, 0
	for i := 0; i < *n; i++ {
		s := *seed + uint64(i)
		a := campaign.ArchOf(s)
		if *arch != "both" {
			a = qemu.Arch(*arch)
		}
		r := campaign.Generate(s, a)
		env := "PAGESNAP_KERNEL_" + map[qemu.Arch]string{qemu.AMD64: "AMD64", qemu.ARM64: "ARM64"}[a]
		k := os.Getenv(env)
		var log io.Writer
		if *verbose {
			log = os.Stdout
		}
		t0 := time.Now()
		err := fmt.Errorf("%s is not set: the 256M kernel of %s is needed", env, a)
		var console lockedBuffer
		if k != "" {
			err = campaign.Execute(context.Background(), r, k, log, &console)
		}
		if err == nil {
			passed++
			fmt.Printf("run %d/%d PASS %s (%v)\n", i+1, *n, r, time.Since(t0).Round(time.Second))
			continue
		}
		failed++
		path := filepath.Join(*out, fmt.Sprintf("campaign-seed-%d.yaml", s))
		werr := os.MkdirAll(*out, 0o755)
		if werr == nil {
			werr = os.WriteFile(path, r.Script(), 0o644)
		}
		if werr == nil {
			werr = os.WriteFile(strings.TrimSuffix(path, ".yaml")+".console", console.bytes(), 0o644)
		}
		if werr != nil {
			path = "not saved: " + werr.Error()
		}
		fmt.Printf("run %d/%d FAIL %s (%v): %v\n    replay: make campaign N=1 SEED=%d ARCH_SET=%s (or the script %s)\n",
			i+1, *n, r, time.Since(t0).Round(time.Second), err, s, *arch, path)
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// lockedBuffer collects a run's guest console (written from several
// goroutines), saved beside the replay script when the run fails.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}
