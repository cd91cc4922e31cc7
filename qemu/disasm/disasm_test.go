package disasm

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu/internal/testguest"
)

func TestX86(t *testing.T) {
	g, err := testguest.Build(0)
	if err != nil {
		t.Fatal(err)
	}
	sym := func(a uint64) (string, uint64) {
		best, base := "", uint64(0)
		for n, v := range g.Symbols {
			if v <= a && v >= base && a-v < 0x40 {
				best, base = n, v
			}
		}
		return best, base
	}
	off := g.Symbols["tick"] - testguest.LoadAddr
	ins, err := Range(X86_32, g.Image[off:], g.Symbols["tick"], 2, sym)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 2 || ins[0].Text != "inc dword ptr [counter]" || ins[1].Text != "ret" ||
		ins[0].Sym != "tick" || ins[1].Sym != "tick+0x6" || len(ins[0].Bytes) != 6 {
		t.Fatalf("%v", ins)
	}
	f := g.Symbols["fault"]
	in, err := Decode(X86_32, g.Image[f-testguest.LoadAddr:], f, sym)
	if want := fmt.Sprintf("%#x <fault>: 0f0b  ud2", f); err != nil || in.String() != want {
		t.Fatalf("%q %v", in.String(), err)
	}
	// The same bytes in 64-bit mode: a REX prefix changes the meaning.
	in, err = Decode(X86_64, []byte{0x48, 0x89, 0x07}, 0x1000, nil)
	if err != nil || in.Text != "mov qword ptr [rdi], rax" {
		t.Fatalf("%q %v", in.Text, err)
	}
	if _, err := Decode(X86_64, []byte{0x0f}, 0, nil); !errors.Is(err, ErrDecode) {
		t.Fatalf("truncated: %v", err)
	}
}

func TestARM64(t *testing.T) {
	// str x1, [x0] = 0xf9000001; brk #0 = 0xd4200000 (Arm ARM C6.2).
	code := []byte{0x01, 0x00, 0x00, 0xf9, 0x00, 0x00, 0x20, 0xd4}
	ins, err := Range(ARM64, code, 0x40080000, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 2 || ins[0].Text != "STR X1, [X0]" || ins[1].Text != "BRK #0x0" {
		t.Fatalf("%v", ins)
	}
	if _, err := Decode(ARM64, []byte{0, 0}, 0, nil); !errors.Is(err, ErrDecode) {
		t.Fatal(err)
	}
}

func TestELF(t *testing.T) {
	g, err := testguest.Build(0)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "g.elf")
	if err := g.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	e, err := OpenELF(p)
	if err != nil {
		t.Fatal(err)
	}
	// The test guest is 32-bit code in an ELF64: decode it as such.
	e.Mode = X86_32
	tick := g.Symbols["tick"]
	in, err := e.At(tick + 6)
	if err != nil || in.Text != "ret" || in.Sym != "tick+0x6" {
		t.Fatalf("%v %v", in, err)
	}
	if _, err := e.At(tick + 2); err == nil || !strings.Contains(err.Error(), "not at a boundary") {
		t.Fatalf("mid-instruction: %v", err)
	}
	if _, err := e.At(0x5000); err == nil {
		t.Fatal("address outside the kernel decoded")
	}
}
