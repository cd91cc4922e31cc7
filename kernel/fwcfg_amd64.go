//go:build tamago && amd64

package kernel

import (
	"encoding/binary"
	"errors"
	"github.com/pagesnap/pagesnap/board/ioport"
	"github.com/pagesnap/pagesnap/memrange"
	"strings"
)

// QEMU firmware configuration device, I/O port interface (QEMU
// docs/specs/fw_cfg.rst): a 16-bit selector register and an 8-bit data
// register; the file directory is item 0x19.
const (
	FW_CFG_PORT_SEL  = 0x510
	FW_CFG_PORT_DATA = 0x511
	FW_CFG_SIGNATURE = 0x0000
	FW_CFG_FILE_DIR  = 0x0019
)

// ErrNoFwCfg means the machine has no fw_cfg device.
var ErrNoFwCfg = errors.New("fw_cfg: device not found")

func fwcfgRead(sel uint16, b []byte) {
	ioport.Out16(FW_CFG_PORT_SEL, sel)
	for i := range b {
		b[i] = ioport.In8(FW_CFG_PORT_DATA)
	}
}

// FwCfgFile returns the contents of the fw_cfg file name (such as
// "etc/e820" or "opt/pagesnap/..."), or an error naming what is missing.
func FwCfgFile(name string) ([]byte, error) {
	var sig [4]byte
	fwcfgRead(FW_CFG_SIGNATURE, sig[:])
	if string(sig[:]) != "QEMU" {
		return nil, ErrNoFwCfg
	}
	var cnt [4]byte
	ioport.Out16(FW_CFG_PORT_SEL, FW_CFG_FILE_DIR)
	for i := range cnt {
		cnt[i] = ioport.In8(FW_CFG_PORT_DATA)
	}
	n := binary.BigEndian.Uint32(cnt[:])
	var ent [64]byte
	for i := uint32(0); i < n; i++ {
		for j := range ent {
			ent[j] = ioport.In8(FW_CFG_PORT_DATA)
		}
		fname := strings.TrimRight(string(ent[8:]), "\x00")
		if fname != name {
			continue
		}
		size := binary.BigEndian.Uint32(ent[0:])
		sel := binary.BigEndian.Uint16(ent[4:])
		b := make([]byte, size)
		fwcfgRead(sel, b)
		return b, nil
	}
	return nil, errors.New("fw_cfg: no file " + name)
}

// E820 memory types (ACPI 6.4, 15.1 "INT 15H E820H").
const (
	E820_RAM      = 1
	E820_RESERVED = 2
)

// RAMRanges returns the machine's RAM from the fw_cfg "etc/e820" table
// (entries of {uint64 address, uint64 length, uint32 type}, little-endian),
// sorted, ignoring empty entries.
func RAMRanges() ([]Range, error) {
	b, err := FwCfgFile("etc/e820")
	if err != nil {
		return nil, err
	}
	if len(b)%20 != 0 {
		return nil, errors.New("fw_cfg: etc/e820 is not a whole number of entries")
	}
	var rs []Range
	for off := 0; off < len(b); off += 20 {
		addr := binary.LittleEndian.Uint64(b[off:])
		size := binary.LittleEndian.Uint64(b[off+8:])
		typ := binary.LittleEndian.Uint32(b[off+16:])
		if typ == E820_RAM && size != 0 {
			rs = append(rs, Range{Base: addr, Size: size})
		}
	}
	if len(rs) == 0 {
		return nil, errors.New("fw_cfg: etc/e820 lists no RAM")
	}
	return memrange.Sort(rs), nil
}
