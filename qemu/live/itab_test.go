package live

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu/disasm"
)

// faultInterfaces are the interfaces the write-fault path and the timer
// interrupt call through: every method they reach (all but Read and Write,
// which the fault path never calls) must be nosplit, since it runs on the
// fault or interrupt stack, where a stack check compares against the
// interrupted goroutine's bounds and, with a preemption pending, calls
// morestack and preempts the goroutine inside the handler.
var faultInterfaces = []string{
	"github.com/pagesnap/pagesnap/snapshot.PhysMem",
	"github.com/pagesnap/pagesnap/mmu.Invalidator", // snapshot.TLB is an alias of it
	"github.com/pagesnap/pagesnap/mmu.PhysMem",
}

// interruptFuncs are called through function values (irq.Tick,
// irq.Device, irq.PrepareWrite) or from assembly on an interrupt stack:
// none may have a stack check. Per ELF machine.
var interruptFuncs = map[elf.Machine][]string{
	elf.EM_X86_64: {
		"github.com/pagesnap/pagesnap/kernel.timerInterrupt",
		"github.com/pagesnap/pagesnap/kernel.deviceInterrupt",
		"github.com/pagesnap/pagesnap/kernel.tick",
		"github.com/pagesnap/pagesnap/kernel.prepareWrite",
		"github.com/pagesnap/pagesnap/kernel/virtio.rngInterrupt",
	},
	elf.EM_AARCH64: {
		"github.com/pagesnap/pagesnap/board/aarch64.tickIRQ",
		"github.com/pagesnap/pagesnap/kernel.tick",
		"github.com/pagesnap/pagesnap/kernel.prepareWrite",
		"github.com/pagesnap/pagesnap/kernel/virtio.rngInterrupt",
	},
}

// TestFaultPathNosplit complements TestFaultPathNoStackCheck (nosplit_test.go),
// which walks direct calls from listed roots: it reads the kernel ELFs' itabs for faultInterfaces
// and checks that no method they dispatch to calls runtime.morestack (has
// a stack check): an interface holding a value type dispatches to a
// compiler-generated pointer wrapper that does, even when the method is
// //go:nosplit. It checks interruptFuncs the same way.
func TestFaultPathNosplit(t *testing.T) {
	for _, env := range []string{"PAGESNAP_KERNEL_AMD64", "PAGESNAP_KERNEL_ARM64"} {
		t.Run(env, func(t *testing.T) {
			checkFaultPathNosplit(t, kernelFor(t, env))
		})
	}
}

func checkFaultPathNosplit(t *testing.T, path string) {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dis, err := disasm.OpenELF(path)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var funcs []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			funcs = append(funcs, s)
		}
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].Value < funcs[j].Value })
	funcAt := func(addr uint64) (elf.Symbol, bool) {
		i := sort.Search(len(funcs), func(i int) bool { return funcs[i].Value > addr }) - 1
		if i < 0 || addr-funcs[i].Value >= max(funcs[i].Size, 1) {
			return elf.Symbol{}, false
		}
		return funcs[i], true
	}
	found := map[string]int{}
	for _, s := range syms {
		name, ok := strings.CutPrefix(s.Name, "go:itab.")
		if !ok {
			continue
		}
		comma := strings.LastIndexByte(name, ',')
		if comma < 0 {
			continue
		}
		iface := name[comma+1:]
		if !contains(faultInterfaces, iface) {
			continue
		}
		found[iface]++
		b := readAt(t, f, s.Value, s.Size)
		// runtime/internal/abi.ITab: Inter, Type (8 bytes each), Hash
		// (4, padded to 8), then Fun[]: the method addresses.
		for off := uint64(24); off+8 <= uint64(len(b)); off += 8 {
			addr := binary.LittleEndian.Uint64(b[off:])
			fn, ok := funcAt(addr)
			if !ok {
				t.Fatalf("%s: method %d at %#x is no function", s.Name, (off-24)/8, addr)
			}
			if strings.HasSuffix(fn.Name, ".Read") || strings.HasSuffix(fn.Name, ".Write") {
				continue
			}
			if call := morestackCall(t, f, dis, fn, funcAt); call != "" {
				t.Errorf("%s dispatches to %s, which has a stack check (%s): not safe on the fault path", s.Name, fn.Name, call)
			}
		}
	}
	for _, name := range interruptFuncs[f.Machine] {
		var fn elf.Symbol
		for _, s := range funcs {
			if s.Name == name {
				fn = s
			}
		}
		if fn.Name == "" {
			t.Errorf("%s: no function %s", path, name)
			continue
		}
		if call := morestackCall(t, f, dis, fn, funcAt); call != "" {
			t.Errorf("%s has a stack check (%s): not safe in interrupt context", name, call)
		}
	}
	for _, iface := range faultInterfaces {
		if found[iface] == 0 {
			t.Errorf("no itab for %s in %s: the check found nothing to check", iface, path)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func readAt(t *testing.T, f *elf.File, addr, size uint64) []byte {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr+size <= p.Vaddr+p.Filesz {
			b := make([]byte, size)
			if _, err := p.ReadAt(b, int64(addr-p.Vaddr)); err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%#x+%d is not in a loaded segment", addr, size)
	return nil
}

// morestackCall returns the instruction of fn that calls runtime.morestack
// (the stack check's slow path), or "".
func morestackCall(t *testing.T, f *elf.File, dis *disasm.ELF, fn elf.Symbol, funcAt func(uint64) (elf.Symbol, bool)) string {
	if f.Machine == elf.EM_AARCH64 {
		// Fixed-size instructions: look at every word for BL imm26 (Arm
		// ARM C6.2.34): target = PC + SignExtend(imm26:'00').
		b := readAt(t, f, fn.Value, fn.Size)
		for off := 0; off+4 <= len(b); off += 4 {
			w := binary.LittleEndian.Uint32(b[off:])
			if w&0xfc000000 != 0x94000000 {
				continue
			}
			pc := fn.Value + uint64(off)
			target := pc + uint64(int64(int32(w<<6))>>4)
			if callee, ok := funcAt(target); ok && strings.HasPrefix(callee.Name, "runtime.morestack") {
				return fmt.Sprintf("%#x: bl %s", pc, callee.Name)
			}
		}
		return ""
	}
	for pc := fn.Value; pc < fn.Value+fn.Size; {
		in, err := dis.At(pc)
		if err != nil {
			t.Fatalf("%s: %v", fn.Name, err)
		}
		if strings.Contains(in.Text, "runtime.morestack") {
			return in.String()
		}
		pc += uint64(len(in.Bytes))
	}
	return ""
}
