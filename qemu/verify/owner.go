package verify

import (
	"debug/elf"
	"fmt"
	"sort"
)

// Kind classifies who owns a page of guest memory.
type Kind string

// Owner kinds. Kernel kinds come from the ELF section holding the address;
// the others from Regions the caller declares (the kernel reports where its
// heap, stacks, DMA buffers and snapshot storage are).
const (
	KernelText   Kind = "kernel text"
	KernelROData Kind = "kernel rodata"
	KernelData   Kind = "kernel data"
	KernelBSS    Kind = "kernel bss"
	Heap         Kind = "heap"
	Stack        Kind = "stack"
	DMA          Kind = "DMA"
	Storage      Kind = "snapshot storage"
	Other        Kind = "other"
	Unknown      Kind = "unknown"
)

// Region is a named physical range of a known kind.
type Region struct {
	Name       string
	Kind       Kind
	Base, Size uint64
}

func (r Region) contains(a uint64) bool { return a >= r.Base && a-r.Base < r.Size }

// Symbol is an ELF symbol with a size (functions and data objects).
type Symbol struct {
	Name       string
	Addr, Size uint64
	Func       bool
}

// Owners maps physical addresses to owners: the kernel ELF's sections and
// symbols (the kernel runs identity-mapped or its ELF carries physical load
// addresses: PT_LOAD p_vaddr − p_paddr is applied) plus caller regions.
type Owners struct {
	// Regions are declared by the caller; where they overlap each other or
	// the ELF's sections, the smallest range containing an address names
	// its owner.
	Regions  []Region
	sections []Region
	syms     []Symbol // sorted by Addr (physical)
	v2p      uint64   // ELF virtual minus physical address
	// Arch is the ELF machine ("amd64", "arm64" or "").
	Arch string
}

// LoadOwners reads the sections and symbols of the kernel ELF at path.
func LoadOwners(path string) (*Owners, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: kernel ELF: %w", err)
	}
	defer f.Close()
	return ownersFromELF(f)
}

func ownersFromELF(f *elf.File) (*Owners, error) {
	o := &Owners{}
	switch f.Machine {
	case elf.EM_X86_64, elf.EM_386:
		o.Arch = "amd64"
	case elf.EM_AARCH64:
		o.Arch = "arm64"
	}
	// Virtual-to-physical offset of the first PT_LOAD (Go's linker writes
	// p_paddr = p_vaddr unless told otherwise).
	v2p := uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			v2p = p.Vaddr - p.Paddr
			break
		}
	}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Size == 0 {
			continue
		}
		k := KernelData
		switch {
		case s.Flags&elf.SHF_EXECINSTR != 0:
			k = KernelText
		case s.Type == elf.SHT_NOBITS:
			k = KernelBSS
		case s.Flags&elf.SHF_WRITE == 0:
			k = KernelROData
		}
		o.sections = append(o.sections, Region{Name: s.Name, Kind: k, Base: s.Addr - v2p, Size: s.Size})
	}
	syms, err := f.Symbols()
	if err != nil && err != elf.ErrNoSymbols {
		return nil, fmt.Errorf("verify: kernel symbols: %w", err)
	}
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if (t != elf.STT_FUNC && t != elf.STT_OBJECT) || s.Value == 0 {
			continue
		}
		o.syms = append(o.syms, Symbol{Name: s.Name, Addr: s.Value - v2p, Size: s.Size, Func: t == elf.STT_FUNC})
	}
	sort.Slice(o.syms, func(i, j int) bool { return o.syms[i].Addr < o.syms[j].Addr })
	o.v2p = v2p
	return o, nil
}

// Lookup returns the symbol containing addr (or the closest one below it in
// the same section when sizes are missing) and the offset into it.
func (o *Owners) Lookup(addr uint64) (Symbol, uint64, bool) {
	if o == nil {
		return Symbol{}, 0, false
	}
	i := sort.Search(len(o.syms), func(i int) bool { return o.syms[i].Addr > addr }) - 1
	if i < 0 {
		return Symbol{}, 0, false
	}
	s := o.syms[i]
	if s.Size != 0 && addr-s.Addr >= s.Size {
		return Symbol{}, 0, false
	}
	if s.Size == 0 {
		// Without a size only trust it inside the same section.
		if a, b := o.section(addr), o.section(s.Addr); a == nil || b == nil || a.Name != b.Name {
			return Symbol{}, 0, false
		}
	}
	return s, addr - s.Addr, true
}

// Symbol returns the physical address of the named symbol.
func (o *Owners) Symbol(name string) (uint64, bool) {
	for _, s := range o.syms {
		if s.Name == name {
			return s.Addr, true
		}
	}
	return 0, false
}

// Virtual converts a physical address of the kernel image to the ELF's
// virtual address (what breakpoints need).
func (o *Owners) Virtual(phys uint64) uint64 { return phys + o.v2p }

// Symbolize names the symbol containing the virtual address addr, in the
// form disasm.Symbolizer expects.
func (o *Owners) Symbolize(addr uint64) (string, uint64) {
	s, _, ok := o.Lookup(addr - o.v2p)
	if !ok {
		return "", 0
	}
	return s.Name, s.Addr + o.v2p
}

func (o *Owners) section(addr uint64) *Region {
	for i := range o.sections {
		if o.sections[i].contains(addr) {
			return &o.sections[i]
		}
	}
	return nil
}

// Owner describes who owns one address.
type Owner struct {
	Kind Kind
	// Where names the region or section and, inside the kernel image, the
	// symbol: "heap", ".data runtime.mheap_+0x40".
	Where string
}

// String returns "kind (where)".
func (w Owner) String() string {
	if w.Where == "" {
		return string(w.Kind)
	}
	return string(w.Kind) + " (" + w.Where + ")"
}

// Owner classifies addr.
func (o *Owners) Owner(addr uint64) Owner {
	if o == nil {
		return Owner{Kind: Unknown}
	}
	// The smallest range containing addr wins: a DMA buffer declared
	// inside .bss, or kernel sections inside a declared "runtime RAM"
	// heap region, are named for what they are.
	var best *Region
	for i := range o.Regions {
		if r := &o.Regions[i]; r.contains(addr) && (best == nil || r.Size < best.Size) {
			best = r
		}
	}
	if s := o.section(addr); s != nil && (best == nil || s.Size < best.Size) {
		w := s.Name
		if sym, off, ok := o.Lookup(addr); ok {
			w += " " + sym.Name
			if off != 0 {
				w += fmt.Sprintf("+%#x", off)
			}
		}
		return Owner{Kind: s.Kind, Where: w}
	}
	if best != nil {
		return Owner{Kind: best.Kind, Where: best.Name}
	}
	return Owner{Kind: Unknown}
}
