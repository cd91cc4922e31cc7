package live

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// exceptionPaths are the arm64 kernel's exception vectors and entry code,
// with the R27 references each may have: the vector tables none, the
// entry routines exactly one store (the save) and, after it, one load (the
// restore).
var exceptionPaths = map[string]int{
	"board/aarch64.vectors":        0,
	"board/aarch64.exceptionEntry": 2,
	"kernel.snapVectors":           0,
	"kernel.abortEntry":            2,
}

var r27RE = regexp.MustCompile(`\bR27\b`)

// checkREGTMP checks the objdump listing of the exception paths: R27 (the
// assembler's temporary, REGTMP) may appear only in the frame's save (a
// store, first) and restore (a load, after it). The interrupted code's
// R27 is live state — Go's LSE compare-and-swap keeps the expected value
// in it — and an out-of-range offset in an entry's LDP or STP makes the
// assembler compute the address in R27 before it is saved or after it is
// restored.
func checkREGTMP(listing []byte) []error {
	var errs []error
	refs := map[string][]string{}
	seen := map[string]bool{}
	eachInstruction(listing, func(fn, l string) {
		if _, ok := exceptionPaths[fn]; !ok {
			return
		}
		seen[fn] = true
		if r27RE.MatchString(l) {
			refs[fn] = append(refs[fn], strings.Join(strings.Fields(l), " "))
		}
	})
	for fn, want := range exceptionPaths {
		if !seen[fn] {
			errs = append(errs, fmt.Errorf("%s is not in the kernel", fn))
			continue
		}
		r := refs[fn]
		ok := len(r) == want
		if ok && want == 2 {
			ok = strings.Contains(r[0], "STP") && strings.HasSuffix(r[0], "(RSP)") &&
				strings.Contains(r[1], "LDP") && strings.Contains(r[1], "(RSP), (")
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s: R27 (REGTMP) must appear only in the frame's save and restore (%d references), found:\n\t%s",
				fn, want, strings.Join(r, "\n\t")))
		}
	}
	return errs
}

// TestExceptionEntryKeepsREGTMP disassembles the arm64 kernel and checks
// its exception paths with checkREGTMP.
func TestExceptionEntryKeepsREGTMP(t *testing.T) {
	goBin := os.Getenv("TAMAGO_GO")
	if goBin == "" {
		goBin = "go"
	}
	k := kernelFor(t, "PAGESNAP_KERNEL_ARM64")
	var pat []string
	for fn := range exceptionPaths {
		pat = append(pat, regexp.QuoteMeta(modPrefix+fn)+"$")
	}
	out, err := exec.Command(goBin, "tool", "objdump", "-s", strings.Join(pat, "|"), k).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	for _, e := range checkREGTMP(out) {
		t.Error(e)
	}
}

// TestCheckREGTMPDetects feeds checkREGTMP the entry code as it was when
// it clobbered R27 (an LDP from 832(RSP) assembled through R27).
func TestCheckREGTMPDetects(t *testing.T) {
	var b strings.Builder
	for fn, n := range exceptionPaths {
		fmt.Fprintf(&b, "TEXT %s%s(SB) x.s\n", modPrefix, fn)
		b.WriteString("  x.s:0\t0x0\ta9bf07e0\tSTP (R0, R1), -16(RSP)\n")
		if n == 2 {
			if fn == "board/aarch64.exceptionEntry" {
				b.WriteString("  vectors_arm64.s:61\t0x1\t910d03fb\tADD $832, RSP, R27\n")
				b.WriteString("  vectors_arm64.s:61\t0x2\ta9400f62\tLDP (R27), (R2, R3)\n")
			}
			b.WriteString("  x.s:1\t0x3\ta90d6ffa\tSTP (R26, R27), 208(RSP)\n")
			b.WriteString("  x.s:2\t0x4\ta94d6ffa\tLDP 208(RSP), (R26, R27)\n")
		}
	}
	errs := checkREGTMP([]byte(b.String()))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "board/aarch64.exceptionEntry: R27") {
		t.Fatalf("want exactly the exceptionEntry error, got %v", errs)
	}
	// The same listing without the two synthesized instructions passes.
	clean := strings.NewReplacer("  vectors_arm64.s:61\t0x1\t910d03fb\tADD $832, RSP, R27\n", "",
		"  vectors_arm64.s:61\t0x2\ta9400f62\tLDP (R27), (R2, R3)\n", "").Replace(b.String())
	if errs := checkREGTMP([]byte(clean)); len(errs) != 0 {
		t.Fatalf("clean listing: %v", errs)
	}
}
