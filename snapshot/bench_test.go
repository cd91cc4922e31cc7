package snapshot_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// benchMachine maps RAM [0, ram) identity with leaf-size pages (sparse
// backing), tables and pool at [1M, 2M) (eager), storage right after RAM.
func benchMachine(b *testing.B, arch mmu.Arch, ram, leaf uint64, fill bool, direct ...bool) (*sim.Machine, *snapshot.Snapshot, snapshot.Range) {
	b.Helper()
	ranges := []snapshot.Range{{Base: 0, Size: ram}}
	l, err := snapshot.NewLayout(4096, ranges)
	if err != nil {
		b.Fatal(err)
	}
	st := snapshot.Range{Base: ram, Size: l.Size}
	m := sim.NewMachine(arch, (ram+l.Size+4*MiB-1)&^(2*MiB-1)+2*MiB, 1*MiB, 1*MiB)
	if err := m.Tables.Map(0, 0, ram, leaf, 0); err != nil {
		b.Fatal(err)
	}
	if fill {
		for pa := uint64(2 * MiB); pa < ram; pa += 8 {
			m.Mem.Store64(pa, pa*0x9e3779b97f4a7c15+1)
		}
	}
	s, err := snapshot.New(snapshot.Config{
		Ranges: ranges, Storage: st, Mem: m.Mem, Tables: m.Tables, TLB: m,
		Eager:              []snapshot.Range{{Base: 1 * MiB, Size: 1 * MiB}, {Base: 2 * MiB, Size: 64 * KiB}},
		DrainUninterrupted: len(direct) > 0 && direct[0],
		Overwrite:          true, // each iteration starts over the last image
	})
	if err != nil {
		b.Fatal(err)
	}
	m.Fault = s.HandleWriteFault
	return m, s, st
}

// BenchmarkStart: Start (eager copy + hierarchical protect + TLB flush)
// against captured RAM size, 1 GiB and 2 MiB leaves. Protecting costs
// entries, not pages: see the entries/op metric.
func BenchmarkStart(b *testing.B) {
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		for _, leaf := range []uint64{1 * GiB, 2 * MiB} {
			for _, gib := range []uint64{1, 4, 16} {
				b.Run(fmt.Sprintf("%v/leaf=%s/ram=%dGiB", arch, sizeName(leaf), gib), func(b *testing.B) {
					_, s, _ := benchMachine(b, arch, gib*GiB, leaf, false)
					for b.Loop() {
						if err := s.Start(); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						if err := s.Abort(); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					st := s.Stats()
					b.ReportMetric(float64(st.EntriesTouched), "entries/op")
					b.ReportMetric(float64(st.EagerPages), "eager-pages/op")
				})
			}
		}
	}
}

func sizeName(n uint64) string {
	if n >= GiB {
		return fmt.Sprintf("%dG", n/GiB)
	}
	return fmt.Sprintf("%dM", n/MiB)
}

// BenchmarkFault: HandleWriteFault on a fresh uncopied page (copy 4 KiB,
// set state, unprotect with push-down/split, invalidate), against the bare
// 4 KiB copy with the same memory primitive (copy-ns metric).
func BenchmarkFault(b *testing.B) {
	for _, arch := range []mmu.Arch{mmu.AMD64, mmu.ARM64} {
		b.Run(arch.String(), func(b *testing.B) {
			const ram = 256 * MiB
			m, s, st := benchMachine(b, arch, ram, 2*MiB, true)
			if err := s.Start(); err != nil {
				b.Fatal(err)
			}
			pa := uint64(4 * MiB)
			for b.Loop() {
				if pa >= ram {
					b.StopTimer()
					s.Abort()
					if err := s.Start(); err != nil {
						b.Fatal(err)
					}
					pa = 4 * MiB
					b.StartTimer()
				}
				if !s.HandleWriteFault(pa) {
					b.Fatal("fault not handled")
				}
				pa += 4096
			}
			b.StopTimer()
			if w, _ := m.Tables.Walk(mmu.VA(pa - 4096)); !w.Writable {
				b.Fatal("page not writable after the fault")
			}
			t0 := time.Now()
			const n = 4096
			for i := uint64(0); i < n; i++ {
				m.Mem.Copy(st.Base+s.Layout().DataOff, 4*MiB+i%1024*4096, 4096)
			}
			b.ReportMetric(float64(time.Since(t0).Nanoseconds())/n, "copy-ns")
		})
	}
}

// BenchmarkDrain: the copy phase of DrainStep over 256 MiB with no
// workload, against a plain copy of the same pages to the same slots with
// the same memory primitive. Reports MB/s and the ratio drain/plain, for
// the default drain (page -> scratch -> slot, safe against a fault
// interrupting it) and with Config.DrainUninterrupted (one copy).
func BenchmarkDrain(b *testing.B) {
	for _, c := range []struct {
		arch   mmu.Arch
		direct bool
	}{{mmu.AMD64, false}, {mmu.AMD64, true}, {mmu.ARM64, false}, {mmu.ARM64, true}} {
		arch := c.arch
		name := arch.String() + "/scratch"
		if c.direct {
			name = arch.String() + "/uninterrupted"
		}
		b.Run(name, func(b *testing.B) {
			const ram = 256 * MiB
			m, s, st := benchMachine(b, arch, ram, 2*MiB, true, c.direct)
			l := s.Layout()
			var drain, plain, hash time.Duration
			b.SetBytes(ram)
			for b.Loop() {
				b.StopTimer()
				if s.Phase() == snapshot.PhaseCapturing || s.Phase() == snapshot.PhaseHashing {
					s.Abort()
				}
				if err := s.Start(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				for s.Phase() == snapshot.PhaseCapturing {
					if _, err := s.DrainStep(256); err != nil {
						b.Fatal(err)
					}
				}
				drain += time.Since(t0)
				b.StopTimer()
				t0 = time.Now()
				for !s.Done() {
					s.DrainStep(256)
				}
				hash += time.Since(t0)
				t0 = time.Now()
				for i := uint64(0); i < l.NumPages; i++ {
					m.Mem.Copy(st.Base+l.DataOff+i*4096, i*4096, 4096)
				}
				plain += time.Since(t0)
				b.StartTimer()
			}
			b.ReportMetric(float64(drain)/float64(plain), "drain/plain")
			b.ReportMetric(float64(hash)/float64(plain), "hash/plain")
		})
	}
}
