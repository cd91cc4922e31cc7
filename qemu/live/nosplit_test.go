package live

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu"
)

// faultPathRoots are the functions the fault path enters (the handlers;
// on arm64 also the shared start-up's (board/aarch64) exception dispatch, which takes the tick and the
// device interrupt through the GICv2 or irq/gicv3; and the targets it calls through interfaces and function values, which
// a static walk cannot follow), per kernel arch.
var faultPathRoots = map[qemu.Arch][]string{
	qemu.AMD64: {"kernel.pageFault", "kernel.nestedFault", "kernel.doubleFault"},
	qemu.ARM64: {"kernel.dataAbort", "board/aarch64.exception"},
	"": {
		"kernel.prepareWrite", "kernel.tick",
		"snapshot.(*Snapshot).HandleWriteFault", "snapshot.(*Snapshot).PrepareWrite",
		"kernel.(*engineMem).Load64", "kernel.(*engineMem).Store64", "kernel.(*engineMem).CAS64", "kernel.(*engineMem).Copy",
		"kernel.(*engineTLB).InvalidatePage", "kernel.(*engineTLB).InvalidateAll",
	},
}

const modPrefix = "github.com/pagesnap/pagesnap/"

var (
	textRE = regexp.MustCompile(`^TEXT (\S+)\(SB\)`)
	callRE = regexp.MustCompile(`\s(?:CALL|JMP)\s+(\S+)\(SB\)`)
)

// TestFaultPathNoStackCheck disassembles each kernel and walks the direct
// calls from the fault path's entry points: no function reached may have
// a stack-growth check (a call to runtime.morestack). The fault and
// interrupt handlers run on their own stacks with the interrupted
// goroutine's g, whose stackguard0 the timer tick may have set to
// stackPreempt: a stack check there calls morestack, which switches to g0
// from inside the handler. (The compiler's wrappers for value methods
// called through an interface, e.g. (*mmu.TLB).InvalidatePage, have such a
// check: the kernel passes pointer types with nosplit methods instead.)
func TestFaultPathNoStackCheck(t *testing.T) {
	goBin := os.Getenv("TAMAGO_GO")
	if goBin == "" {
		goBin = "go"
	}
	for _, tc := range []struct {
		arch qemu.Arch
		env  string
	}{{qemu.AMD64, "PAGESNAP_KERNEL_AMD64_256M"}, {qemu.ARM64, "PAGESNAP_KERNEL_ARM64"}} {
		t.Run(string(tc.arch), func(t *testing.T) {
			k := kernelFor(t, tc.env)
			out, err := exec.Command(goBin, "tool", "objdump", "-s", "^"+regexp.QuoteMeta(modPrefix), k).Output()
			if err != nil {
				t.Fatalf("objdump: %v", err)
			}
			calls, checks := map[string][]string{}, map[string]bool{}
			eachInstruction(out, func(cur, l string) {
				if m := callRE.FindStringSubmatch(l); m != nil {
					callee := m[1]
					if strings.HasPrefix(callee, "runtime.morestack") {
						checks[cur] = true
					} else if strings.HasPrefix(callee, modPrefix) {
						calls[cur] = append(calls[cur], strings.TrimPrefix(callee, modPrefix))
					}
				}
			})
			roots := append(faultPathRoots[tc.arch], faultPathRoots[""]...)
			via := map[string]string{}
			queue := []string{}
			for _, r := range roots {
				if _, ok := calls[r]; !ok && !checks[r] && !bytes.Contains(out, []byte("TEXT "+modPrefix+r+"(SB)")) {
					t.Fatalf("fault-path root %s not in the kernel", r)
				}
				via[r] = ""
				queue = append(queue, r)
			}
			for len(queue) > 0 {
				f := queue[0]
				queue = queue[1:]
				if checks[f] {
					chain := f
					for p := via[f]; p != ""; p = via[p] {
						chain = p + " -> " + chain
					}
					t.Errorf("stack check on the fault path: %s", chain)
				}
				for _, c := range calls[f] {
					if _, seen := via[c]; !seen {
						via[c] = f
						queue = append(queue, c)
					}
				}
			}
			t.Logf("%d functions reached from %d roots", len(via), len(roots))
		})
	}
}

// eachInstruction calls f with each instruction line of a go tool objdump
// listing and the function it belongs to (without the module prefix).
func eachInstruction(listing []byte, f func(fn, line string)) {
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(listing))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if m := textRE.FindStringSubmatch(l); m != nil {
			cur = strings.TrimPrefix(m[1], modPrefix)
			continue
		}
		if cur != "" {
			f(cur, l)
		}
	}
}
