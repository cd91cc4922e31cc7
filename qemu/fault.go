package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pagesnap/pagesnap/memrange"
	"github.com/pagesnap/pagesnap/qemu/disasm"
)

// CPUState is vCPU 0's state as printed by the monitor's "info registers".
type CPUState struct {
	// PC is RIP/EIP on x86, PC on arm64.
	PC uint64
	// Mode is the instruction set the vCPU executes (from CS.L/CS.D on x86).
	Mode disasm.Mode
	// Regs holds every NAME=hex field (EAX, RIP, CR2, X00, PSTATE, …).
	Regs map[string]uint64
	// Raw is the monitor output.
	Raw string
}

var regField = regexp.MustCompile(`\b([A-Z][A-Z0-9]*)\s?=\s?([0-9a-fA-F]{4,16})\b`)

// ParseRegisters parses "info registers" output for arch.
func ParseRegisters(arch Arch, out string) (CPUState, error) {
	st := CPUState{Regs: map[string]uint64{}, Raw: out}
	for _, m := range regField.FindAllStringSubmatch(out, -1) {
		if _, dup := st.Regs[m[1]]; dup {
			continue
		}
		v, err := strconv.ParseUint(m[2], 16, 64)
		if err == nil {
			st.Regs[m[1]] = v
		}
	}
	switch arch {
	case AMD64:
		pc, ok := st.Regs["RIP"]
		if !ok {
			pc, ok = st.Regs["EIP"]
		}
		if !ok {
			return st, fmt.Errorf("qemu: no RIP/EIP in info registers output")
		}
		st.PC = pc
		switch {
		case strings.Contains(out, " CS64 "):
			st.Mode = disasm.X86_64
		case strings.Contains(out, " CS16 "):
			st.Mode = disasm.X86_16
		default:
			st.Mode = disasm.X86_32
		}
	case ARM64:
		pc, ok := st.Regs["PC"]
		if !ok {
			return st, fmt.Errorf("qemu: no PC in info registers output")
		}
		st.PC, st.Mode = pc, disasm.ARM64
	default:
		return st, fmt.Errorf("qemu: unknown arch %q", arch)
	}
	return st, nil
}

// Fault is a report of where a guest stopped: registers and the decoded
// instruction at the PC.
type Fault struct {
	RunState string // QMP run state ("paused", "guest-panicked", "shutdown", …)
	CPU      CPUState
	Inst     disasm.Inst
	InstErr  error // why the instruction could not be decoded
}

// String is a one-line fault report: run state, PC, decoded instruction
// and the fault-address registers.
func (f *Fault) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "guest %s at pc %#x", f.RunState, f.CPU.PC)
	if f.InstErr != nil {
		fmt.Fprintf(&b, " (instruction: %v)", f.InstErr)
	} else {
		fmt.Fprintf(&b, ": %s", f.Inst)
	}
	for _, r := range []string{"CR2", "CR3", "ESR_EL1", "FAR_EL1", "PSTATE"} {
		if v, ok := f.CPU.Regs[r]; ok {
			fmt.Fprintf(&b, " %s=%#x", r, v)
		}
	}
	return b.String()
}

// Fault stops the guest (QMP stop; harmless if already stopped), reads
// vCPU 0's registers and decodes the instruction at its PC. Use it when a
// guest crashed (with Config.PauseOnReset a triple fault leaves the vCPU
// state readable) or when a test fails, to show where the guest was.
func (vm *VM) Fault(sym disasm.Symbolizer) (*Fault, error) {
	q, err := vm.QMP()
	if err != nil {
		return nil, err
	}
	if err := q.Stop(); err != nil {
		return nil, err
	}
	f := &Fault{}
	if f.RunState, err = q.Status(); err != nil {
		return nil, err
	}
	out, err := q.HMP("info registers")
	if err != nil {
		return nil, err
	}
	if f.CPU, err = ParseRegisters(vm.Config.Arch, out); err != nil {
		return nil, err
	}
	code, err := vm.readVirtual(q, f.CPU.PC, 16)
	if err != nil {
		f.InstErr = err
		return f, nil
	}
	f.Inst, f.InstErr = disasm.Decode(f.CPU.Mode, code, f.CPU.PC, sym)
	return f, nil
}

// readVirtual reads guest memory at a virtual address of vCPU 0 with QMP
// memsave.
func (vm *VM) readVirtual(q *QMP, addr, n uint64) ([]byte, error) {
	dir, err := os.MkdirTemp("", "psqmem")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "m")
	if _, err := q.Run("memsave", map[string]any{"val": addr, "size": n, "filename": p, "cpu-index": 0}); err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// ReadPhys reads n bytes of guest physical memory at addr with QMP
// pmemsave (the guest should be stopped for a consistent read).
func (vm *VM) ReadPhys(addr, n uint64) ([]byte, error) {
	q, err := vm.QMP()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "psqmem")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "m")
	if err := q.Pmemsave(addr, n, p); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err == nil && uint64(len(b)) != n {
		err = fmt.Errorf("qemu: pmemsave wrote %d bytes, want %d", len(b), n)
	}
	return b, err
}

// SaveRAM writes all guest RAM (Config.MemoryMiB from the board's RAM base)
// to path with pmemsave: the reference image. Stop the guest first.
func (vm *VM) SaveRAM(path string) (base uint64, err error) {
	ram := vm.ram()
	if err := vm.saveRange(ram, path); err != nil {
		return 0, err
	}
	return ram.Base, nil
}

// ram returns the guest's RAM as a physical range.
func (vm *VM) ram() memrange.Range {
	return memrange.Range{Base: vm.Config.Arch.RAMBase(vm.Config.board()), Size: uint64(vm.Config.memMiB()) << 20}
}

// saveRange writes the guest's physical memory r to path (QMP pmemsave).
func (vm *VM) saveRange(r memrange.Range, path string) error {
	q, err := vm.QMP()
	if err != nil {
		return err
	}
	return q.Pmemsave(r.Base, r.Size, path)
}
