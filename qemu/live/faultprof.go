package live

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
)

// Fault-path entry symbols: where a write fault enters pagesnap's handler
// (amd64: the #PF gate; arm64: the synchronous-exception entry the vector
// table branches to).
const (
	faultEntryAMD64 = "github.com/pagesnap/pagesnap/kernel.pageFaultEntry"
	faultEntryARM64 = "github.com/pagesnap/pagesnap/kernel.abortEntry"
	measureFaults   = "github.com/pagesnap/pagesnap/kernel.MeasureFaults"
	// copyFunc is the engine's page copy (mmu.Direct.Copy's assembly).
	copyFunc = "github.com/pagesnap/pagesnap/mmu.copyWords.abi0"
)

// FaultTrace is one write fault single-stepped from the handler's first
// instruction to the faulting instruction's retry: the instructions
// executed, in total and per function. Each iteration of a repeated
// string instruction counts as one, as under -icount.
type FaultTrace struct {
	Total  int
	ByFunc []FuncCount // most instructions first
	PCs    []uint64    // every instruction's address, in execution order
	// CopyIterations is how many times the page copy's (copyFunc) most
	// executed instruction ran: its loop's iterations (1 for the
	// generated, unrolled page body; 512 for amd64's REP MOVSQ).
	CopyIterations int
}

// FuncCount is the number of instructions a fault executed in one
// function.
type FuncCount struct {
	Func string
	N    int
}

// String prints the trace: the total, then one line per function.
func (t FaultTrace) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "write fault: %d instructions\n", t.Total)
	for _, f := range t.ByFunc {
		fmt.Fprintf(&b, "  %6d  %5.1f%%  %s\n", f.N, 100*float64(f.N)/float64(t.Total), f.Func)
	}
	return b.String()
}

// ProfileFaults boots kernel (RAM size ram), arms the kernel's write-fault
// probe (bench fault prepare), starts a snapshot and single-steps the
// first n write faults the probe's stores take through the fault handler,
// counting instructions per function (the kernel ELF's symbols).
func ProfileFaults(ctx context.Context, kernel, ram string, n int, log io.Writer) ([]FaultTrace, error) {
	t, err := resolveTarget(kernel, "", ram)
	if err != nil {
		return nil, err
	}
	f, err := elf.Open(kernel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	sort.Slice(syms, func(i, j int) bool { return syms[i].Value < syms[j].Value })
	find := func(name string) (elf.Symbol, error) {
		for _, s := range syms {
			if s.Name == name {
				return s, nil
			}
		}
		return elf.Symbol{}, fmt.Errorf("live: %s has no symbol %s", kernel, name)
	}
	entryName, ret := faultEntryAMD64, []byte{0x48, 0xcf} // IRETQ
	if t.arch == qemu.ARM64 {
		entryName, ret = faultEntryARM64, binary.LittleEndian.AppendUint32(nil, 0xd69f03e0) // ERET
	}
	entry, err := find(entryName)
	if err != nil {
		return nil, err
	}
	probe, err := find(measureFaults)
	if err != nil {
		return nil, err
	}
	// The handler's return instructions: the step after one of them ends
	// the fault.
	code, err := readText(f, entry.Value, entry.Size)
	if err != nil {
		return nil, err
	}
	rets := map[uint64]bool{}
	for i := 0; i+len(ret) <= len(code); i++ {
		if string(code[i:i+len(ret)]) == string(ret) && (t.arch != qemu.ARM64 || i%4 == 0) {
			rets[entry.Value+uint64(i)] = true
		}
	}
	if len(rets) == 0 {
		return nil, fmt.Errorf("live: no return instruction found in %s", entryName)
	}
	funcOf := func(pc uint64) string {
		i := sort.Search(len(syms), func(i int) bool { return syms[i].Value > pc }) - 1
		for ; i >= 0; i-- {
			s := syms[i]
			if elf.ST_TYPE(s.Info) == elf.STT_FUNC || s.Size > 0 {
				if pc < s.Value+max(s.Size, 1) {
					return s.Name
				}
				break
			}
		}
		return fmt.Sprintf("%#x", pc)
	}

	vm, g, err := startVM(ctx, t, kernel, log, nil, nil)
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	g.Continue()
	if _, err := waitReady(vm); err != nil {
		return nil, err
	}
	if err := vm.Send("bench fault prepare 16"); err != nil {
		return nil, err
	}
	if _, err := vm.Console.Expect(preparedRE, 5*time.Minute); err != nil {
		return nil, err
	}
	// Stop where the probe starts storing, then at each fault entry.
	if _, err := g.Interrupt(); err != nil {
		return nil, err
	}
	if err := vm.Send(snapStart("inuse", 20, false)); err != nil {
		return nil, err
	}
	if _, err := g.RunTo(probe.Value, 10*time.Minute); err != nil {
		return nil, fmt.Errorf("live: %s not reached: %w", measureFaults, err)
	}
	var traces []FaultTrace
	for len(traces) < n {
		if _, err := g.RunTo(entry.Value, 10*time.Minute); err != nil {
			return traces, fmt.Errorf("live: fault entry not reached: %w", err)
		}
		counts := map[string]int{}
		total := 0
		var pcs []uint64
		for first := true; ; first = false {
			pc, err := g.PC()
			if err != nil {
				return traces, err
			}
			if first && pc != entry.Value {
				return traces, fmt.Errorf("live: stopped at %#x, not at the fault entry %#x", pc, entry.Value)
			}
			counts[funcOf(pc)]++
			pcs = append(pcs, pc)
			total++
			if total > 1_000_000 {
				return traces, fmt.Errorf("live: fault not done after %d instructions", total)
			}
			if _, err := g.Step(); err != nil {
				return traces, err
			}
			if rets[pc] {
				break
			}
		}
		tr := FaultTrace{Total: total, PCs: pcs}
		inCopy := map[uint64]int{}
		for _, pc := range pcs {
			if funcOf(pc) == copyFunc {
				inCopy[pc]++
			}
		}
		for _, c := range inCopy {
			tr.CopyIterations = max(tr.CopyIterations, c)
		}
		for fn, c := range counts {
			tr.ByFunc = append(tr.ByFunc, FuncCount{fn, c})
		}
		sort.Slice(tr.ByFunc, func(i, j int) bool {
			if tr.ByFunc[i].N != tr.ByFunc[j].N {
				return tr.ByFunc[i].N > tr.ByFunc[j].N
			}
			return tr.ByFunc[i].Func < tr.ByFunc[j].Func
		})
		traces = append(traces, tr)
	}
	g.Continue()
	return traces, nil
}

// readText reads size bytes at virtual address addr from f's sections.
func readText(f *elf.File, addr, size uint64) ([]byte, error) {
	for _, s := range f.Sections {
		if s.Type == elf.SHT_PROGBITS && addr >= s.Addr && addr+size <= s.Addr+s.Size {
			b := make([]byte, size)
			_, err := s.ReadAt(b, int64(addr-s.Addr))
			return b, err
		}
	}
	return nil, fmt.Errorf("live: no section holds %#x..%#x", addr, addr+size)
}
