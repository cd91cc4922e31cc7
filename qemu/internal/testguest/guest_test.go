package testguest

import (
	"bytes"
	"debug/elf"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"

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

func TestARM64ELF(t *testing.T) {
	g, err := BuildARM64(0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(g.ELF))
	if err != nil {
		t.Fatal(err)
	}
	if f.Entry != ARM64LoadAddr || f.Machine != elf.EM_AARCH64 {
		t.Fatalf("entry %#x machine %v", f.Entry, f.Machine)
	}
	syms, _ := f.Symbols()
	for _, s := range syms {
		if g.Symbols[s.Name] != s.Value {
			t.Errorf("%s = %#x, want %#x", s.Name, s.Value, g.Symbols[s.Name])
		}
		if s.Name == "tick" && s.Size != 16 {
			t.Errorf("tick size %d, want 16", s.Size)
		}
	}
	off := g.Symbols["tick"] - ARM64LoadAddr
	var got []string
	for i := uint64(0); i < 4; i++ {
		in, err := arm64asm.Decode(g.Image[off+4*i:])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, in.String())
	}
	if want := "LDR W4, [X5]|ADD W4, W4, #0x1|STR W4, [X5]|RET X30"; strings.Join(got, "|") != want {
		t.Fatalf("tick: %q", got)
	}
}
