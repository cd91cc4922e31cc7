// Package testguest builds a tiny x86 guest kernel for harness tests that
// need no pagesnap kernel: an ELF64 with a Xen PVH note (so QEMU's -kernel
// boots it on microvm in 32-bit protected mode, paging off) whose code is
// assembled here byte by byte.
//
// The guest prints Banner on COM1 (0x3f8), then loops: it calls Tick
// (which increments the 32-bit word at CounterAddr), echoes every byte
// received on COM1, and reads the 32-bit word at CmdAddr. A non-zero
// command other than CmdFault is written to the isa-debug-exit port 0xf4
// (QEMU exits with (V<<1)|1); CmdFault executes UD2 at the "fault" symbol.
// The guest loads an empty IDT, so that fault, or any interrupt (an
// injected NMI), triple-faults.
package testguest

import (
	"bytes"
	"encoding/binary"
	"os"
)

// Local APIC registers (SDM Vol. 3A 10.4.1, table 10-1).
const (
	lapicBase        = 0xfee00000
	lapicSVR         = 0xf0   // spurious-interrupt vector register
	lapicSVREnable   = 1 << 8 // APIC software enable
	lapicLVTLINT1    = 0x360
	lapicDeliveryNMI = 4 << 8 // LVT delivery mode 100b: NMI
)

// Guest memory layout.
const (
	LoadAddr    = 0x100000 // first byte of the loaded image (.text)
	CounterAddr = 0x101000 // incremented by every Tick call
	CmdAddr     = 0x102000 // command word polled by the main loop
	ImageEnd    = 0x103000 // end of the loaded image
	StackTop    = 0x90000
	// CmdFault makes the guest execute UD2.
	CmdFault = 0xdead
	// Banner is printed once at start (without the newline).
	Banner = "pagesnap test guest ready"
)

// symbolNames are the labels exported in the ELF symbol table.
var symbolNames = []string{"_start", "main_loop", "tick", "putc", "fault", "halt", "msg", "counter", "cmd"}

// Guest is an assembled test guest.
type Guest struct {
	// ELF is the complete kernel file.
	ELF []byte
	// Image is the loaded segment: LoadAddr..ImageEnd as it is in memory
	// right after QEMU loaded it (before the guest runs).
	Image []byte
	// Symbols maps label names (_start, main_loop, tick, putc, fault, msg,
	// counter, cmd) to addresses.
	Symbols map[string]uint64
}

// Build assembles the guest with the command word preset to cmd (0: run
// until told otherwise).
func Build(cmd uint32) (*Guest, error) {
	a := newAsm(LoadAddr)
	const (
		com1 = 0x3f8
		lsr  = com1 + 5 // line status register (16550: bit 0 data ready, bit 5 THR empty)
	)
	a.label("_start")
	a.emit(0xfa)             // cli
	a.emit(0x0f, 0x01, 0x1d) // lidt [disp32]: an empty IDT, so any interrupt or
	a.abs32("idtr")          // exception triple-faults (SDM Vol. 3A 6.10, 6.14)
	// Enable the local APIC and route LINT1 as NMI, unmasked, so that an
	// NMI injected by the host (QMP inject-nmi arrives on LINT1) is
	// delivered (SDM Vol. 3A 10.4.3 spurious-interrupt vector register,
	// 10.5.1 local vector table).
	a.emit(0xc7, 0x05) // mov dword [disp32], imm32
	a.imm32(lapicBase + lapicSVR)
	a.imm32(lapicSVREnable | 0xff)
	a.emit(0xc7, 0x05)
	a.imm32(lapicBase + lapicLVTLINT1)
	a.imm32(lapicDeliveryNMI)
	a.emit(0xbc)       // mov esp, imm32
	a.imm32(StackTop)  //
	a.emit(0xbe)       // mov esi, imm32
	a.abs32("msg")     //
	a.label("ploop")   //
	a.emit(0x8a, 0x06) // mov al, [esi]
	a.emit(0x84, 0xc0) // test al, al
	a.rel8(0x74, "main_loop")
	a.rel32(0xe8, "putc")
	a.emit(0x46) // inc esi
	a.rel8(0xeb, "ploop")
	a.label("main_loop")
	a.rel32(0xe8, "tick")
	a.emit(0x66, 0xba) // mov dx, imm16
	a.imm16(lsr)
	a.emit(0xec)       // in al, dx
	a.emit(0xa8, 0x01) // test al, 1
	a.rel8(0x74, "noin")
	a.emit(0x66, 0xba)
	a.imm16(com1)
	a.emit(0xec) // in al, dx
	a.rel32(0xe8, "putc")
	a.label("noin")
	a.emit(0xa1) // mov eax, [moffs32]
	a.imm32(CmdAddr)
	a.emit(0x85, 0xc0) // test eax, eax
	a.rel8(0x74, "main_loop")
	a.emit(0x3d) // cmp eax, imm32
	a.imm32(CmdFault)
	a.rel8(0x74, "fault")
	a.emit(0x66, 0xba)
	a.imm16(0xf4)
	a.emit(0xef) // out dx, eax
	a.label("halt")
	a.emit(0xf4) // hlt
	a.rel8(0xeb, "halt")
	a.label("fault")
	a.emit(0x0f, 0x0b) // ud2
	a.label("tick")
	a.emit(0xff, 0x05) // inc dword [disp32]
	a.imm32(CounterAddr)
	a.emit(0xc3) // ret
	a.label("putc")
	a.emit(0x50) // push eax
	a.emit(0x66, 0xba)
	a.imm16(lsr)
	a.label("putc_wait")
	a.emit(0xec)       // in al, dx
	a.emit(0xa8, 0x20) // test al, 0x20
	a.rel8(0x74, "putc_wait")
	a.emit(0x58) // pop eax
	a.emit(0x66, 0xba)
	a.imm16(com1)
	a.emit(0xee) // out dx, al
	a.emit(0xc3) // ret
	a.label("idtr")
	a.emit(0, 0, 0, 0, 0, 0) // limit 0, base 0
	a.label("msg")
	a.emit([]byte(Banner + "\n\x00")...)
	a.labels["counter"] = CounterAddr
	a.labels["cmd"] = CmdAddr
	code, err := a.link()
	if err != nil {
		return nil, err
	}
	img := make([]byte, ImageEnd-LoadAddr)
	copy(img, code)
	binary.LittleEndian.PutUint32(img[CmdAddr-LoadAddr:], cmd)
	g := &Guest{Image: img, Symbols: map[string]uint64{}}
	for _, n := range symbolNames {
		g.Symbols[n] = uint64(a.labels[n])
	}
	g.ELF = buildELF(emX8664, LoadAddr, img, uint32(len(code)), a.labels, pvhNote(a.labels["_start"]))
	return g, nil
}

// WriteFile writes the ELF to path.
func (g *Guest) WriteFile(path string) error { return os.WriteFile(path, g.ELF, 0o644) }

// ELF64 constants (System V gABI, "ELF Header", "Program Header",
// "Sections", "Symbol Table").
const (
	etExec     = 2
	emX8664    = 62
	emAArch64  = 183
	ptLoad     = 1
	ptNote     = 4
	pfX        = 1
	pfW        = 2
	pfR        = 4
	shtProgbit = 1
	shtSymtab  = 2
	shtStrtab  = 3
	shtNote    = 7
	shfWrite   = 1
	shfAlloc   = 2
	shfExec    = 4
	sttObject  = 1
	sttFunc    = 2
	stbGlobal  = 1
	// xenElfnotePhys32Entry is the PVH entry note type (Xen public
	// elfnote.h, XEN_ELFNOTE_PHYS32_ENTRY).
	xenElfnotePhys32Entry = 18
)

type section struct {
	name                  string
	typ                   uint32
	flags, addr, off, sz  uint64
	link, info            uint32
	align, entsize        uint64
	nameOff               uint32
	data                  []byte
	fileOffsetIsAllocated bool
}

// pvhNote is the Xen PVH entry note: namesz, descsz, type, "Xen\0" and the
// 32-bit entry address.
func pvhNote(entry uint32) []byte {
	var note bytes.Buffer
	binary.Write(&note, binary.LittleEndian, []uint32{4, 4, xenElfnotePhys32Entry, 0x006e6558, entry})
	return note.Bytes()
}

// buildELF lays out an ELF64 executable: one PT_LOAD of img at base
// (.text = the code, .data = base+0x1000 to the end), a PT_NOTE holding
// note, and a symbol table of symbolNames.
func buildELF(machine uint16, base uint64, img []byte, codeLen uint32, labels map[string]uint32, noteBytes []byte) []byte {
	le := binary.LittleEndian
	const (
		ehsize   = 64
		phentsz  = 56
		shentsz  = 64
		phnum    = 2
		imageOff = 0x1000
	)
	note := bytes.NewBuffer(noteBytes)
	dataAddr := base + 0x1000
	noteOff := uint64(ehsize + phentsz*phnum)

	// Symbol and string tables.
	strtab := []byte{0}
	symtab := make([]byte, 24) // null symbol
	names := symbolNames
	for _, n := range names {
		s := make([]byte, 24)
		le.PutUint32(s[0:], uint32(len(strtab)))
		strtab = append(append(strtab, n...), 0)
		typ, shndx, size := byte(sttFunc), uint16(1), uint64(0)
		switch n {
		case "msg":
			typ, size = sttObject, uint64(len(Banner)+2)
		case "counter", "cmd":
			typ, shndx, size = sttObject, 2, 4
		}
		s[4] = stbGlobal<<4 | typ
		le.PutUint16(s[6:], shndx)
		le.PutUint64(s[8:], uint64(labels[n]))
		le.PutUint64(s[16:], size)
		symtab = append(symtab, s...)
	}
	// Sizes of the functions: up to the next label in address order.
	for i, n := range names {
		if symtab[24*(i+1)+4]&0xf != sttFunc {
			continue
		}
		end := labels["msg"]
		for _, m := range names {
			if a := labels[m]; a > labels[n] && a < end {
				end = a
			}
		}
		le.PutUint64(symtab[24*(i+1)+16:], uint64(end-labels[n]))
	}

	secs := []*section{
		{name: ""},
		{name: ".text", typ: shtProgbit, flags: shfAlloc | shfExec, addr: base, off: imageOff, sz: uint64(codeLen), align: 16},
		{name: ".data", typ: shtProgbit, flags: shfAlloc | shfWrite, addr: dataAddr, off: imageOff + dataAddr - base, sz: base + uint64(len(img)) - dataAddr, align: 4096},
		{name: ".note", typ: shtNote, off: noteOff, sz: uint64(note.Len()), align: 4},
		{name: ".symtab", typ: shtSymtab, data: symtab, link: 5, info: 1, align: 8, entsize: 24},
		{name: ".strtab", typ: shtStrtab, data: strtab, align: 1},
		{name: ".shstrtab", typ: shtStrtab, align: 1},
	}
	shstr := []byte{0}
	for _, s := range secs[1:] {
		s.nameOff = uint32(len(shstr))
		shstr = append(append(shstr, s.name...), 0)
	}
	secs[6].data = shstr

	var out bytes.Buffer
	out.Write(make([]byte, imageOff))
	out.Write(img)
	for _, s := range secs {
		if s.data != nil {
			for out.Len()%8 != 0 {
				out.WriteByte(0)
			}
			s.off = uint64(out.Len())
			s.sz = uint64(len(s.data))
			out.Write(s.data)
		}
	}
	for out.Len()%8 != 0 {
		out.WriteByte(0)
	}
	shoff := uint64(out.Len())
	for _, s := range secs {
		h := make([]byte, shentsz)
		le.PutUint32(h[0:], s.nameOff)
		le.PutUint32(h[4:], s.typ)
		le.PutUint64(h[8:], s.flags)
		le.PutUint64(h[16:], s.addr)
		le.PutUint64(h[24:], s.off)
		le.PutUint64(h[32:], s.sz)
		le.PutUint32(h[40:], s.link)
		le.PutUint32(h[44:], s.info)
		le.PutUint64(h[48:], s.align)
		le.PutUint64(h[56:], s.entsize)
		out.Write(h)
	}
	b := out.Bytes()

	// ELF header.
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */})
	le.PutUint16(b[16:], etExec)
	le.PutUint16(b[18:], machine)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], uint64(labels["_start"]))
	le.PutUint64(b[32:], ehsize)
	le.PutUint64(b[40:], shoff)
	le.PutUint16(b[52:], ehsize)
	le.PutUint16(b[54:], phentsz)
	le.PutUint16(b[56:], phnum)
	le.PutUint16(b[58:], shentsz)
	le.PutUint16(b[60:], uint16(len(secs)))
	le.PutUint16(b[62:], 6)

	// Program headers: the image, then the note.
	ph := b[ehsize:]
	le.PutUint32(ph[0:], ptLoad)
	le.PutUint32(ph[4:], pfR|pfW|pfX)
	le.PutUint64(ph[8:], imageOff)
	le.PutUint64(ph[16:], base)
	le.PutUint64(ph[24:], base)
	le.PutUint64(ph[32:], uint64(len(img)))
	le.PutUint64(ph[40:], uint64(len(img)))
	le.PutUint64(ph[48:], 0x1000)
	ph = ph[phentsz:]
	le.PutUint32(ph[0:], ptNote)
	le.PutUint32(ph[4:], pfR)
	le.PutUint64(ph[8:], noteOff)
	le.PutUint64(ph[32:], uint64(note.Len()))
	le.PutUint64(ph[40:], uint64(note.Len()))
	le.PutUint64(ph[48:], 4)
	copy(b[noteOff:], note.Bytes())
	return b
}
