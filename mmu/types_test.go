package mmu

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSwappedAddressesDoNotCompile builds testdata/swapped, which calls
// Map with its physical and virtual addresses swapped: the build must fail
// on exactly those two arguments.
func TestSwappedAddressesDoNotCompile(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goTool, "build", "-o", "/dev/null", "./testdata/swapped").CombinedOutput()
	if err == nil {
		t.Fatalf("testdata/swapped compiled:\n%s", out)
	}
	for _, want := range []string{
		"cannot use pa (variable of uint64 type mmu.PA) as mmu.VA value in argument to t.Map",
		"cannot use va (variable of uint64 type mmu.VA) as mmu.PA value in argument to t.Map",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
}
