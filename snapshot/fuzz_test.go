package snapshot_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/pagesnap/pagesnap/mmu"
	"github.com/pagesnap/pagesnap/snapshot"
	"github.com/pagesnap/pagesnap/snapshot/sim"
)

// FuzzConfig builds arbitrary configurations on a 16 MiB machine ([0, 8M)
// mapped with 4 KiB pages, tables at [0, 256K)). New must either refuse
// with a named error or produce a snapshot that equals memory at Start
// while a CPU keeps storing.
func FuzzConfig(f *testing.F) {
	f.Add([]byte{1, 0, 16, 0, 0, 8, 0, 8, 1, 0, 2, 0, 0, 0}, uint64(1))
	f.Add([]byte{2, 0, 4, 0, 64, 0, 64, 0, 32, 0, 0, 8, 0, 8, 0, 1, 3, 0, 1, 0}, uint64(2))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		next := func() uint64 {
			if len(data) < 2 {
				return 0
			}
			v := uint64(binary.LittleEndian.Uint16(data))
			data = data[2:]
			return v
		}
		page := func() uint64 { return next() % 4097 * 4096 }
		var cfg snapshot.Config
		for range next() % 5 {
			cfg.Ranges = append(cfg.Ranges, snapshot.Range{Base: page(), Size: page()})
		}
		cfg.Storage = snapshot.Range{Base: page(), Size: page()}
		for range next() % 4 {
			cfg.DMA = append(cfg.DMA, snapshot.Range{Base: page(), Size: page()})
		}
		tables := snapshot.Range{Base: 0, Size: 256 * KiB}
		cfg.Eager = []snapshot.Range{tables}
		m := sim.NewMachine(mmu.AMD64, 16*MiB, 0, tables.Size)
		if err := m.Tables.Map(0, 0, 8*MiB, 4096, 0); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(seed, 0))
		for pa := tables.Size; pa < 8*MiB; pa += 8 * 61 {
			m.Mem.Store64(pa, r.Uint64())
		}
		cfg.Mem, cfg.Tables, cfg.TLB = m.Mem, m.Tables, m
		s, err := snapshot.New(cfg)
		if err != nil {
			for _, e := range []error{snapshot.ErrRanges, snapshot.ErrStorage, snapshot.ErrConfig} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unnamed error %v", err)
		}
		l := s.Layout()
		for _, rr := range cfg.Ranges {
			if rr.Overlaps(cfg.Storage) || cfg.Storage.Size < l.Size {
				t.Fatalf("accepted bad config %+v", cfg)
			}
			if rr.End() > 16*MiB {
				return // valid but outside the simulated memory
			}
		}
		if cfg.Storage.End() > 16*MiB {
			return
		}
		m.Fault = s.HandleWriteFault
		ref := map[uint64][]byte{}
		for _, rr := range cfg.Ranges {
			for pa := rr.Base; pa < rr.End(); pa += 4096 {
				b := make([]byte, 4096)
				m.Mem.Read(pa, b)
				ref[pa] = b
			}
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		c := m.NewCPU()
		for !s.Done() {
			for range 3 {
				va := tables.Size + r.Uint64N((8*MiB-tables.Size)/8)*8
				if cfg.Storage.Contains(va) {
					continue
				}
				if err := c.Store64(va, r.Uint64()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.DrainStep(3); err != nil {
				t.Fatal(err)
			}
		}
		im, err := snapshot.ReadImage(m.Mem.ReaderAt(cfg.Storage.Base, cfg.Storage.Size), int64(cfg.Storage.Size))
		if err != nil {
			t.Fatal(err)
		}
		if err := im.Verify(); err != nil {
			t.Fatal(err)
		}
		for pa, want := range ref {
			got, err := im.Page(pa)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("page %#x differs (%v)", pa, err)
			}
		}
	})
}
