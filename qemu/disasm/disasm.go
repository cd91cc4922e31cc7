// Package disasm decodes guest instructions for fault reports with
// golang.org/x/arch (x86asm for amd64 and 386, arm64asm for arm64).
package disasm

import (
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/arch/arm64/arm64asm"
	"golang.org/x/arch/x86/x86asm"
)

// Mode selects the instruction set to decode.
type Mode string

// Decoding modes.
const (
	X86_64 Mode = "x86-64" // 64-bit long mode
	X86_32 Mode = "x86-32" // 32-bit protected mode (PVH entry)
	X86_16 Mode = "x86-16" // real mode
	ARM64  Mode = "arm64"  // A64
)

// Symbolizer names an address: the symbol containing it and its start.
// It returns "" when unknown.
type Symbolizer func(addr uint64) (name string, base uint64)

// Inst is one decoded instruction.
type Inst struct {
	PC    uint64
	Bytes []byte // the instruction's encoding
	Text  string // Intel syntax for x86, Arm syntax for arm64
	Sym   string // "func+0x4" or ""
}

// String formats the instruction as "pc <sym+off>: bytes  text".
func (i Inst) String() string {
	s := fmt.Sprintf("%#x", i.PC)
	if i.Sym != "" {
		s += " <" + i.Sym + ">"
	}
	return s + ": " + hex.EncodeToString(i.Bytes) + "  " + i.Text
}

// ErrDecode is wrapped when the bytes are not a valid instruction.
var ErrDecode = errors.New("disasm: cannot decode")

// Decode decodes the instruction at the start of code, located at pc.
func Decode(mode Mode, code []byte, pc uint64, sym Symbolizer) (Inst, error) {
	in := Inst{PC: pc}
	if sym != nil {
		if n, b := sym(pc); n != "" {
			in.Sym = n
			if pc != b {
				in.Sym += fmt.Sprintf("+%#x", pc-b)
			}
		}
	}
	x86sym := func(a uint64) (string, uint64) {
		if sym == nil {
			return "", 0
		}
		return sym(a)
	}
	switch mode {
	case X86_64, X86_32, X86_16:
		bits := map[Mode]int{X86_64: 64, X86_32: 32, X86_16: 16}[mode]
		x, err := x86asm.Decode(code, bits)
		if err != nil {
			return in, fmt.Errorf("%w %s at %#x (% x): %v", ErrDecode, mode, pc, head(code), err)
		}
		if x.Op == 0 {
			// x86asm returns a bare prefix with no opcode for truncated
			// or invalid encodings.
			return in, fmt.Errorf("%w %s at %#x (% x): truncated or invalid", ErrDecode, mode, pc, head(code))
		}
		in.Bytes = append([]byte(nil), code[:x.Len]...)
		in.Text = x86asm.IntelSyntax(x, pc, x86sym)
	case ARM64:
		if len(code) < 4 {
			return in, fmt.Errorf("%w arm64 at %#x: %d bytes", ErrDecode, pc, len(code))
		}
		a, err := arm64asm.Decode(code[:4])
		if err != nil {
			return in, fmt.Errorf("%w arm64 at %#x (% x): %v", ErrDecode, pc, code[:4], err)
		}
		in.Bytes = append([]byte(nil), code[:4]...)
		in.Text = a.String()
	default:
		return in, fmt.Errorf("disasm: unknown mode %q", mode)
	}
	return in, nil
}

func head(b []byte) []byte {
	if len(b) > 15 {
		return b[:15]
	}
	return b
}

// Range decodes instructions from the start of code (at pc) until n
// instructions are decoded or code is exhausted: decoding forward from a
// known instruction boundary (a function symbol) is reliable, decoding
// backwards from a PC on x86 is not.
func Range(mode Mode, code []byte, pc uint64, n int, sym Symbolizer) ([]Inst, error) {
	var out []Inst
	for len(out) < n && len(code) > 0 {
		in, err := Decode(mode, code, pc, sym)
		if err != nil {
			return out, err
		}
		out = append(out, in)
		code = code[len(in.Bytes):]
		pc += uint64(len(in.Bytes))
	}
	return out, nil
}
