package testguest

import "fmt"

// asm is a tiny assembler for the handful of 32-bit x86 instructions the
// test guest needs: bytes are emitted as given and label references are
// patched once every label is known. Encodings: Intel SDM Vol. 2.
type asm struct {
	org    uint32
	b      []byte
	labels map[string]uint32
	fix    []fixup
}

type fixup struct {
	at    int // offset of the displacement in b
	label string
	size  int // 1 (rel8), 4 (rel32) or -4 (absolute 32-bit)
}

func newAsm(org uint32) *asm { return &asm{org: org, labels: map[string]uint32{}} }

func (a *asm) pc() uint32 { return a.org + uint32(len(a.b)) }

func (a *asm) label(name string) {
	if _, ok := a.labels[name]; ok {
		panic("testguest: duplicate label " + name)
	}
	a.labels[name] = a.pc()
}

func (a *asm) emit(b ...byte) { a.b = append(a.b, b...) }

func (a *asm) imm32(v uint32) { a.emit(byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }

func (a *asm) imm16(v uint16) { a.emit(byte(v), byte(v>>8)) }

// rel8 emits opcode op with an 8-bit displacement to label (Jcc rel8, JMP rel8).
func (a *asm) rel8(op byte, label string) {
	a.emit(op, 0)
	a.fix = append(a.fix, fixup{len(a.b) - 1, label, 1})
}

// rel32 emits opcode op with a 32-bit displacement to label (CALL/JMP rel32).
func (a *asm) rel32(op byte, label string) {
	a.emit(op, 0, 0, 0, 0)
	a.fix = append(a.fix, fixup{len(a.b) - 4, label, 4})
}

// abs32 emits a 32-bit absolute address of label.
func (a *asm) abs32(label string) {
	a.emit(0, 0, 0, 0)
	a.fix = append(a.fix, fixup{len(a.b) - 4, label, -4})
}

func (a *asm) link() ([]byte, error) {
	for _, f := range a.fix {
		t, ok := a.labels[f.label]
		if !ok {
			return nil, fmt.Errorf("testguest: undefined label %s", f.label)
		}
		switch f.size {
		case 1:
			d := int64(t) - int64(a.org+uint32(f.at)+1)
			if d < -128 || d > 127 {
				return nil, fmt.Errorf("testguest: %s out of rel8 range (%d)", f.label, d)
			}
			a.b[f.at] = byte(int8(d))
		case 4:
			d := uint32(int64(t) - int64(a.org+uint32(f.at)+4))
			a.b[f.at], a.b[f.at+1], a.b[f.at+2], a.b[f.at+3] = byte(d), byte(d>>8), byte(d>>16), byte(d>>24)
		case -4:
			a.b[f.at], a.b[f.at+1], a.b[f.at+2], a.b[f.at+3] = byte(t), byte(t>>8), byte(t>>16), byte(t>>24)
		}
	}
	return a.b, nil
}
