package live

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pagesnap/pagesnap/qemu/disasm"
)

// FatalFault is the kernel's report of a page fault that was not the
// snapshot's (kernel/fault_amd64.go), decoded on the host.
type FatalFault struct {
	CR2, Error, RIP uint64
	Kind            string        // "protection,write", "not-present,read", ...
	Inst            disasm.Inst   // the faulting instruction (Text empty when Unreadable)
	Unreadable      bool          // rip is not mapped: the kernel could not read the instruction bytes
	Frames          []disasm.Inst // return addresses, symbolized (Text empty)
}

var fatalRE = regexp.MustCompile(`pagesnap: FATAL page fault: cr2=(0x[0-9a-f]+) error=(0x[0-9a-f]+) \(([^)]*)\) rip=(0x[0-9a-f]+) code=([0-9a-f]+|` + regexp.QuoteMeta(unreadableCode) + `)(?: frames=(.*))?`)

// unreadableCode stands for the instruction bytes when rip is not mapped
// (kernel/fault_amd64.go).
const unreadableCode = "none(instruction-bytes-unreadable)"

// nestedRE is the line the kernel prints before the fatal report when the
// page-fault handler itself faulted: the outer fault it was handling.
var nestedRE = regexp.MustCompile(`pagesnap: FATAL nested page fault: the page-fault handler faulted while handling cr2=(0x[0-9a-f]+) error=(0x[0-9a-f]+) rip=(0x[0-9a-f]+)`)

// ParseFatalFault decodes a fatal page-fault line with the kernel ELF's
// symbols (kernel may be empty: no symbols).
func ParseFatalFault(line, kernel string) (*FatalFault, error) {
	m := fatalRE.FindStringSubmatch(line)
	if m == nil {
		return nil, fmt.Errorf("live: not a fatal fault report: %q", line)
	}
	f := &FatalFault{CR2: hex64(m[1]), Error: hex64(m[2]), Kind: m[3], RIP: hex64(m[4])}
	var sym disasm.Symbolizer
	if kernel != "" {
		if e, err := disasm.OpenELF(kernel); err == nil {
			sym = e.Symbolize
		}
	}
	if m[5] == unreadableCode {
		f.Unreadable = true
		f.Inst = disasm.Inst{PC: f.RIP}
		if sym != nil {
			if n, b := sym(f.RIP); n != "" {
				f.Inst.Sym = fmt.Sprintf("%s+%#x", n, f.RIP-b)
			}
		}
	} else {
		code, err := hex.DecodeString(m[5])
		if err != nil {
			return nil, err
		}
		if f.Inst, err = disasm.Decode(disasm.X86_64, code, f.RIP, sym); err != nil {
			return nil, err
		}
	}
	for _, s := range strings.Fields(m[6]) {
		pc := hex64(s)
		fr := disasm.Inst{PC: pc}
		if sym != nil {
			if n, b := sym(pc); n != "" {
				fr.Sym = fmt.Sprintf("%s+%#x", n, pc-b)
			}
		}
		f.Frames = append(f.Frames, fr)
	}
	return f, nil
}

func hex64(s string) uint64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	return v
}

// String is the report for people.
func (f *FatalFault) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "page fault not taken by the snapshot: cr2=%#x error=%#x (%s)\n", f.CR2, f.Error, f.Kind)
	if f.Unreadable {
		fmt.Fprintf(&b, "  instruction: at %#x, not mapped: bytes unreadable\n", f.RIP)
	} else {
		fmt.Fprintf(&b, "  instruction: %v\n", f.Inst)
	}
	for _, fr := range f.Frames {
		fmt.Fprintf(&b, "  called from: %#x %s\n", fr.PC, fr.Sym)
	}
	return b.String()
}
