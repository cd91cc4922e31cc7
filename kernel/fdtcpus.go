package kernel

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Flattened device tree structure tokens and header fields (Devicetree
// Specification v0.4, 5.2 "Header" and 5.4.1 "Lexical structure").
const (
	FDT_MAGIC      = 0xd00dfeed
	FDT_BEGIN_NODE = 0x1
	FDT_END_NODE   = 0x2
	FDT_PROP       = 0x3
	FDT_NOP        = 0x4
	FDT_END        = 0x9
)

// ErrFDT means a device tree blob is malformed.
var ErrFDT = errors.New("device tree: malformed blob")

// FDTCPUCount returns the number of processors a flattened device tree
// describes: the children of /cpus whose name is cpu or cpu@unit
// (Devicetree Specification, 3.7 "/cpus" and 3.8 "/cpus/cpu*"), leaving out
// those whose status property says they are not available ("disabled",
// "fail").
func FDTCPUCount(blob []byte) (int, error) {
	if len(blob) < 40 || binary.BigEndian.Uint32(blob) != FDT_MAGIC {
		return 0, ErrFDT
	}
	total := binary.BigEndian.Uint32(blob[4:])
	off := int(binary.BigEndian.Uint32(blob[8:]))
	strOff := int(binary.BigEndian.Uint32(blob[12:]))
	if int(total) > len(blob) || off >= len(blob) || strOff >= len(blob) {
		return 0, ErrFDT
	}
	blob = blob[:total]
	u32 := func() (uint32, bool) {
		if off+4 > len(blob) {
			return 0, false
		}
		v := binary.BigEndian.Uint32(blob[off:])
		off += 4
		return v, true
	}
	var path []string
	n := 0
	inCPU, cpuOK := false, false
	for {
		tok, ok := u32()
		if !ok {
			return 0, ErrFDT
		}
		switch tok {
		case FDT_BEGIN_NODE:
			end := off
			for end < len(blob) && blob[end] != 0 {
				end++
			}
			if end >= len(blob) {
				return 0, ErrFDT
			}
			name := string(blob[off:end])
			off = (end + 1 + 3) &^ 3
			path = append(path, name)
			if len(path) == 3 && path[1] == "cpus" && (name == "cpu" || strings.HasPrefix(name, "cpu@")) {
				inCPU, cpuOK = true, true
			}
		case FDT_END_NODE:
			if len(path) == 0 {
				return 0, ErrFDT
			}
			if len(path) == 3 && inCPU {
				if cpuOK {
					n++
				}
				inCPU = false
			}
			path = path[:len(path)-1]
		case FDT_PROP:
			size, ok1 := u32()
			nameOff, ok2 := u32()
			if !ok1 || !ok2 || off+int(size) > len(blob) {
				return 0, ErrFDT
			}
			val := blob[off : off+int(size)]
			off = (off + int(size) + 3) &^ 3
			if inCPU && len(path) == 3 && propName(blob, strOff+int(nameOff)) == "status" {
				st := strings.TrimRight(string(val), "\x00")
				cpuOK = st == "okay" || st == "ok"
			}
		case FDT_NOP:
		case FDT_END:
			return n, nil
		default:
			return 0, ErrFDT
		}
	}
}

func propName(blob []byte, off int) string {
	end := off
	for end < len(blob) && blob[end] != 0 {
		end++
	}
	if off >= len(blob) {
		return ""
	}
	return string(blob[off:end])
}
