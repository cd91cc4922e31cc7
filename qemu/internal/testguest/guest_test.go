package testguest

import (
	"bytes"
	"debug/elf"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// TestELF checks the ELF with the standard library's parser: entry, the
// loaded segment, the PVH note and the symbols.
func TestELF(t *testing.T) {
	g, err := Build(0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(g.ELF))
	if err != nil {
		t.Fatal(err)
	}
	if f.Entry != LoadAddr || f.Machine != elf.EM_X86_64 {
		t.Fatalf("entry %#x machine %v", f.Entry, f.Machine)
	}
	var load *elf.Prog
	var note bool
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			load = p
		case elf.PT_NOTE:
			b := make([]byte, p.Filesz)
			p.ReadAt(b, 0)
			want := []byte{4, 0, 0, 0, 4, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0, 0, 0, 0x10, 0}
			note = bytes.Equal(b, want)
			if !note {
				t.Errorf("note % x, want % x", b, want)
			}
		}
	}
	if load == nil || load.Vaddr != LoadAddr || load.Filesz != ImageEnd-LoadAddr || !note {
		t.Fatalf("segments: %+v note %v", load, note)
	}
	seg := make([]byte, load.Filesz)
	load.ReadAt(seg, 0)
	if !bytes.Equal(seg, g.Image) {
		t.Fatal("PT_LOAD contents differ from Image")
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, s := range syms {
		got[s.Name] = s.Value
	}
	for k, v := range g.Symbols {
		if got[k] != v {
			t.Errorf("symbol %s = %#x, want %#x", k, got[k], v)
		}
	}
}

// TestDisassembly decodes the assembled code and checks chosen
// instructions, so an encoding slip in the assembler shows up here.
func TestDisassembly(t *testing.T) {
	g, err := Build(0)
	if err != nil {
		t.Fatal(err)
	}
	at := func(sym string) string {
		off := g.Symbols[sym] - LoadAddr
		inst, err := x86asm.Decode(g.Image[off:], 32)
		if err != nil {
			t.Fatalf("%s: %v", sym, err)
		}
		return x86asm.IntelSyntax(inst, g.Symbols[sym], nil)
	}
	for sym, want := range map[string]string{
		"_start": "cli",
		"tick":   "inc dword ptr [0x101000]",
		"fault":  "ud2",
		"putc":   "push eax",
		"halt":   "hlt",
	} {
		if got := at(sym); got != want {
			t.Errorf("%s: %q, want %q", sym, got, want)
		}
	}
}
