package disasm

import (
	"debug/elf"
	"fmt"
	"sort"
)

// ELF decodes instructions of a kernel image at their link addresses.
type ELF struct {
	Mode  Mode
	progs []*elf.Prog
	code  [][]byte
	syms  []elf.Symbol // functions, sorted by address
}

// OpenELF reads the executable segments and function symbols of the ELF at
// path. amd64 kernels are decoded as 64-bit code, arm64 as A64.
func OpenELF(path string) (*ELF, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("disasm: %w", err)
	}
	defer f.Close()
	e := &ELF{}
	switch f.Machine {
	case elf.EM_X86_64:
		e.Mode = X86_64
	case elf.EM_386:
		e.Mode = X86_32
	case elf.EM_AARCH64:
		e.Mode = ARM64
	default:
		return nil, fmt.Errorf("disasm: %s: unsupported machine %v", path, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return nil, fmt.Errorf("disasm: %s: %w", path, err)
			}
			q := *p
			q.ReaderAt = nil
			e.progs = append(e.progs, &q)
			e.code = append(e.code, b)
		}
	}
	syms, _ := f.Symbols()
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			e.syms = append(e.syms, s)
		}
	}
	sort.Slice(e.syms, func(i, j int) bool { return e.syms[i].Value < e.syms[j].Value })
	return e, nil
}

// Symbolize names the function containing addr.
func (e *ELF) Symbolize(addr uint64) (string, uint64) {
	i := sort.Search(len(e.syms), func(i int) bool { return e.syms[i].Value > addr }) - 1
	if i < 0 {
		return "", 0
	}
	s := e.syms[i]
	if s.Size != 0 && addr-s.Value >= s.Size {
		return "", 0
	}
	return s.Name, s.Value
}

func (e *ELF) bytesAt(addr uint64) []byte {
	for i, p := range e.progs {
		if addr >= p.Vaddr && addr-p.Vaddr < uint64(len(e.code[i])) {
			return e.code[i][addr-p.Vaddr:]
		}
	}
	return nil
}

// At decodes the instruction at addr. On x86 it decodes forward from the
// start of the containing function so that addr is known to be an
// instruction boundary (decoding from an arbitrary address may
// misinterpret bytes); it fails if addr is not one.
func (e *ELF) At(addr uint64) (Inst, error) {
	code := e.bytesAt(addr)
	if code == nil {
		return Inst{PC: addr}, fmt.Errorf("disasm: %#x is not in an executable segment of the kernel", addr)
	}
	if e.Mode == ARM64 {
		return Decode(e.Mode, code, addr, e.Symbolize)
	}
	name, start := e.Symbolize(addr)
	if name == "" {
		return Decode(e.Mode, code, addr, e.Symbolize)
	}
	pc := start
	for pc < addr {
		in, err := Decode(e.Mode, e.bytesAt(pc), pc, nil)
		if err != nil {
			return Inst{PC: addr}, err
		}
		pc += uint64(len(in.Bytes))
	}
	if pc != addr {
		return Inst{PC: addr}, fmt.Errorf("disasm: %#x is inside the instruction ending at %#x in %s, not at a boundary", addr, pc, name)
	}
	return Decode(e.Mode, code, addr, e.Symbolize)
}
