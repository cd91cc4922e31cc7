package testguest

import (
	"encoding/binary"
	"fmt"
)

// ARM64 guest layout (QEMU virt: RAM from 0x40000000; the ELF is loaded at
// its physical addresses and entered at EL1 with the MMU off).
const (
	ARM64LoadAddr    = 0x40100000
	ARM64CounterAddr = 0x40101000
	ARM64CmdAddr     = 0x40102000
	ARM64ImageEnd    = 0x40103000
	// PL011 UART on virt.
	pl011 = 0x09000000
	// PSCI SYSTEM_OFF function id (Arm DEN0022, SMC32 0x84000008).
	psciSystemOff = 0x84000008
)

// a64 assembles A64 words with label fixups (Arm ARM C4 encodings).
type a64 struct {
	org    uint32
	w      []uint32
	labels map[string]uint32
	fix    []a64fix
}

type a64fix struct {
	at    int
	label string
	kind  string // "b26", "imm19", "imm14", "adr"
}

func (a *a64) pc() uint32 { return a.org + 4*uint32(len(a.w)) }
func (a *a64) label(n string) {
	if _, ok := a.labels[n]; ok {
		panic("testguest: duplicate label " + n)
	}
	a.labels[n] = a.pc()
}
func (a *a64) emit(w ...uint32) { a.w = append(a.w, w...) }
func (a *a64) ref(w uint32, kind, label string) {
	a.fix = append(a.fix, a64fix{len(a.w), label, kind})
	a.w = append(a.w, w)
}

func (a *a64) link() error {
	for _, f := range a.fix {
		t, ok := a.labels[f.label]
		if !ok {
			return fmt.Errorf("testguest: undefined label %s", f.label)
		}
		d := int32(t - (a.org + 4*uint32(f.at)))
		switch f.kind {
		case "b26":
			a.w[f.at] |= uint32(d/4) & (1<<26 - 1)
		case "imm19":
			a.w[f.at] |= (uint32(d/4) & (1<<19 - 1)) << 5
		case "imm14":
			a.w[f.at] |= (uint32(d/4) & (1<<14 - 1)) << 5
		case "adr":
			a.w[f.at] |= (uint32(d)&3)<<29 | (uint32(d>>2)&(1<<19-1))<<5
		}
	}
	return nil
}

// A64 encodings used below (Arm ARM C6.2).
const (
	movz64   = 0xd2800000 // MOVZ Xd, #imm16, LSL #(hw*16); hw at bit 21
	movk64   = 0xf2800000
	movz32   = 0x52800000
	movk32   = 0x72800000
	adr      = 0x10000000
	ldrbPost = 0x38400400 // LDRB Wt, [Xn], #imm9
	strb     = 0x39000000 // STRB Wt, [Xn, #imm12]
	ldr32    = 0xb9400000 // LDR Wt, [Xn, #imm12*4]
	str32    = 0xb9000000
	addImm32 = 0x11000000 // ADD Wd, Wn, #imm12
	subsReg  = 0x6b000000 // SUBS Wd, Wn, Wm
	cbz32    = 0x34000000
	tbnz     = 0x37000000
	bcond    = 0x54000000
	b        = 0x14000000
	bl       = 0x94000000
	ret      = 0xd65f03c0
	hvc0     = 0xd4000002
	wfi      = 0xd503207f
	udf0     = 0x00000000
)

func mov16(op uint32, rd, imm, hw uint32) uint32 { return op | hw<<21 | imm<<5 | rd }
func ldst(op, rt, rn, imm uint32) uint32         { return op | imm<<10 | rn<<5 | rt }

// BuildARM64 assembles the arm64 version of the guest for QEMU virt: it
// prints Banner on the PL011, then loops calling tick (incrementing the
// word at ARM64CounterAddr), echoing received bytes and polling the word at
// ARM64CmdAddr: CmdFault executes UDF, any other non-zero value calls PSCI
// SYSTEM_OFF (QEMU exits with status 0).
func BuildARM64(cmd uint32) (*Guest, error) {
	a := &a64{org: ARM64LoadAddr, labels: map[string]uint32{}}
	a.label("_start")
	a.emit(mov16(movz64, 1, pl011>>16, 1))
	a.emit(mov16(movz64, 5, ARM64CounterAddr&0xffff, 0), mov16(movk64, 5, ARM64CounterAddr>>16, 1))
	a.emit(mov16(movz64, 6, ARM64CmdAddr&0xffff, 0), mov16(movk64, 6, ARM64CmdAddr>>16, 1))
	a.ref(adr|2, "adr", "msg")
	a.label("ploop")
	a.emit(ldrbPost | 1<<12 | 2<<5 | 3) // ldrb w3, [x2], #1
	a.ref(cbz32|3, "imm19", "main_loop")
	a.ref(bl, "b26", "putc")
	a.ref(b, "b26", "ploop")
	a.label("main_loop")
	a.ref(bl, "b26", "tick")
	a.emit(ldst(ldr32, 8, 1, 0x18/4)) // ldr w8, [x1, #0x18] (UARTFR)
	a.ref(tbnz|4<<19|8, "imm14", "noin")
	a.emit(ldst(ldr32, 3, 1, 0)) // ldr w3, [x1] (UARTDR)
	a.ref(bl, "b26", "putc")
	a.label("noin")
	a.emit(ldst(ldr32, 7, 6, 0)) // ldr w7, [x6]
	a.ref(cbz32|7, "imm19", "main_loop")
	a.emit(mov16(movz32, 9, CmdFault, 0))
	a.emit(subsReg | 9<<16 | 7<<5 | 31) // cmp w7, w9
	a.ref(bcond|0, "imm19", "fault")    // b.eq fault
	a.emit(mov16(movz32, 0, psciSystemOff&0xffff, 0), mov16(movk32, 0, psciSystemOff>>16, 1))
	a.emit(hvc0)
	a.label("halt")
	a.emit(wfi)
	a.ref(b, "b26", "halt")
	a.label("fault")
	a.emit(udf0)
	a.label("tick")
	a.emit(ldst(ldr32, 4, 5, 0), addImm32|1<<10|4<<5|4, ldst(str32, 4, 5, 0), ret)
	a.label("putc")
	a.emit(ldst(strb, 3, 1, 0), ret)
	a.label("msg")
	if err := a.link(); err != nil {
		return nil, err
	}
	code := make([]byte, 4*len(a.w))
	for i, w := range a.w {
		binary.LittleEndian.PutUint32(code[4*i:], w)
	}
	code = append(code, Banner+"\n\x00"...)
	a.labels["counter"] = ARM64CounterAddr
	a.labels["cmd"] = ARM64CmdAddr
	img := make([]byte, ARM64ImageEnd-ARM64LoadAddr)
	copy(img, code)
	binary.LittleEndian.PutUint32(img[ARM64CmdAddr-ARM64LoadAddr:], cmd)
	g := &Guest{Image: img, Symbols: map[string]uint64{}}
	for _, n := range symbolNames {
		g.Symbols[n] = uint64(a.labels[n])
	}
	// An informational note (name "PSNP"): QEMU's arm loader ignores notes.
	note := []byte{5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'P', 'S', 'N', 'P', 0, 0, 0, 0}
	g.ELF = buildELF(emAArch64, ARM64LoadAddr, img, uint32(len(code)), a.labels, note)
	return g, nil
}
