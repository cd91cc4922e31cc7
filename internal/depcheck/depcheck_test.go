package depcheck

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// engineAndDrivers must not depend on a board: the engine (snapshot, mmu,
// dma, memrange, the kernel package: the board glue hands it its board)
// and the drivers (virtio, the APICs, the GICv3, the
// interrupt hooks).
var engineAndDrivers = []string{
	"./snapshot", "./mmu", "./dma", "./memrange", "./kernel",
	"./kernel/virtio", "./lapic", "./ioapic", "./irq", "./irq/gicv3",
}

func hostGo() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }

// TestNoBoardImports: the engine and the drivers reach no board package,
// built for the host and with the GOOS=tamago toolchain for amd64 and
// arm64 (as the kernels build them). The pagesnap kernel, which picks its
// board, is listed too: the check must find its board there.
func TestNoBoardImports(t *testing.T) {
	builds := []struct {
		name, goTool string
		env          []string
	}{{"host", hostGo(), nil}}
	if tgo := os.Getenv("TAMAGO_GO"); tgo != "" {
		for _, arch := range []string{"amd64", "arm64"} {
			builds = append(builds, struct {
				name, goTool string
				env          []string
			}{"tamago/" + arch, tgo, []string{"GOOS=tamago", "GOARCH=" + arch, "GOOSPKG=github.com/usbarmory/tamago"}})
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("TAMAGO_GO is not set (make test sets it)")
	} else {
		t.Log("TAMAGO_GO is not set: host build only")
	}
	for _, b := range builds {
		found, err := BoardImports(b.goTool, "../..", b.env, engineAndDrivers)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			t.Errorf("%s: %s", b.name, f)
		}
		if b.name == "host" {
			continue
		}
		kernel, err := BoardImports(b.goTool, "../..", b.env, []string{"./kernel/cmd/pagesnap"})
		if err != nil {
			t.Fatal(err)
		}
		if len(kernel) != 1 {
			t.Errorf("%s: the check found no board under the pagesnap kernel: %q", b.name, kernel)
		}
		t.Logf("%s: %d packages reach no board; %v", b.name, len(engineAndDrivers), kernel)
	}
}
