//go:build !tamago

package tamago

import (
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/qemu"
)

// tamagoGo returns the GOOS=tamago toolchain's go command: $TAMAGO_GO or
// the one `make toolchain` recorded. Without one the test skips, except
// under CI=true, where it fails.
func tamagoGo(t *testing.T) string {
	t.Helper()
	if g := os.Getenv("TAMAGO_GO"); g != "" {
		return g
	}
	if b, err := os.ReadFile("../../build/toolchain.goroot"); err == nil {
		return filepath.Join(strings.TrimSpace(string(b)), "bin", "go")
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no GOOS=tamago toolchain: make test sets TAMAGO_GO")
	}
	t.Skip("no GOOS=tamago toolchain: set TAMAGO_GO or run make toolchain")
	return ""
}

// buildBootcheck builds internal/bootcheck for a tamago board and RAM size
// exactly as make kernel BOARD= RAM= builds a kernel: board/layout's
// mem_size.go through -overlay, its tags and linker flags.
func buildBootcheck(t *testing.T, goBin string, b layout.Board, ram uint64) string {
	t.Helper()
	out, msg, err := tryBuildBootcheck(t, goBin, b, ram, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	return out
}

// tryBuildBootcheck is buildBootcheck with extra -overlay replacements
// (file: replacement), returning the build's error and output.
func tryBuildBootcheck(t *testing.T, goBin string, b layout.Board, ram uint64, extra map[string]string) (string, []byte, error) {
	t.Helper()
	dir := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	file, src := layout.MemSizeFile(b, ram)
	gen := filepath.Join(dir, "mem_size.go")
	ov := filepath.Join(dir, "overlay.json")
	js, err := layout.Overlay(root, file, gen)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gen, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(extra) > 0 {
		var o struct{ Replace map[string]string }
		if err := json.Unmarshal(js, &o); err != nil {
			t.Fatal(err)
		}
		maps.Copy(o.Replace, extra)
		if js, err = json.Marshal(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(ov, js, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bootcheck-"+b.Name+".elf")
	cmd := exec.Command(goBin, "build", "-overlay", ov, "-tags", b.BuildTags(), "-ldflags", b.LinkerFlags(), "-o", out,
		"github.com/pagesnap/pagesnap/board/tamago/internal/bootcheck")
	var env []string
	for _, e := range os.Environ() {
		switch strings.SplitN(e, "=", 2)[0] {
		case "GOROOT", "GOOS", "GOARCH", "GOTOOLCHAIN", "CGO_ENABLED", "GOFLAGS", "GOOSPKG":
			continue
		}
		env = append(env, e)
	}
	cmd.Env = append(env, "GOOS=tamago", "GOARCH="+b.Arch, "GOTOOLCHAIN=local", "GOOSPKG=github.com/usbarmory/tamago")
	if o, err := cmd.CombinedOutput(); err != nil {
		return "", o, fmt.Errorf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return out, nil, nil
}

// ramSizeOf reads goos.RamSize's initial value from the ELF.
func ramSizeOf(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != "runtime/goos.RamSize" {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && s.Value >= p.Vaddr && s.Value+8 <= p.Vaddr+p.Filesz {
				var b [8]byte
				if _, err := p.ReadAt(b[:], int64(s.Value-p.Vaddr)); err != nil {
					t.Fatal(err)
				}
				return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
					uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
			}
		}
	}
	t.Fatalf("%s: no initialized runtime/goos.RamSize", path)
	return 0
}

// TestBuildBoards builds the boot check on each of tamago's amd64 boards
// at RAM=768M, as make kernel BOARD= RAM=768M does, and checks the linked
// goos.RamSize is the size asked for: the board package, pagesnap's glue
// (board/tamago) and the generated mem_size.go link together. (imx8mpevk:
// TestIMX8MPEVKGlue.)
func TestBuildBoards(t *testing.T) {
	goBin := tamagoGo(t)
	for _, name := range []string{"tamago-microvm", "firecracker", "cloud-hypervisor", "gcp"} {
		t.Run(name, func(t *testing.T) {
			b := layout.Boards[name]
			elf := buildBootcheck(t, goBin, b, 768*layout.MiB)
			if got := ramSizeOf(t, elf); got != 768*layout.MiB {
				t.Errorf("goos.RamSize = %#x, want %#x", got, 768*layout.MiB)
			}
		})
	}
}

// TestIMX8MPEVKGlue builds the boot check on tamago's imx8mpevk board
// (arm64) with pagesnap's glue (board/tamago/board_imx8mpevk.go: the DMA
// window in DDR after the runtime's memory, UART1, the generic timer's
// clock) at RAM=768M. With the project's toolchain as it is, tamago
// v1.26.0's arm64 package does not compile: its arm64/mmu.go takes
// runtime.MemRegion and runtime.TextRegion as uint64 (tamago-go's arm64
// runtime declares them so), and this toolchain's runtime returns uint.
// The test pins that failure down (when the toolchain changes, it fails
// and board/layout.TamagoIMX8MPEVK's comment and docs/boards.md must
// change), then builds again with the toolchain's own os_tamago.go
// widened to uint64 for those two functions through a test-only -overlay
// (toolchain/ is not changed) and checks the kernel links with the
// goos.RamSize asked for: nothing else in the board or the glue stands in
// the way of the build.
func TestIMX8MPEVKGlue(t *testing.T) {
	goBin := tamagoGo(t)
	b := layout.TamagoIMX8MPEVK
	_, msg, err := tryBuildBootcheck(t, goBin, b, 768*layout.MiB, nil)
	if err == nil {
		t.Fatal("the boot check built on tamago's imx8mpevk with the unchanged toolchain: tamago's arm64 package compiles now; update board/layout.TamagoIMX8MPEVK and docs/boards.md")
	}
	for _, want := range []string{"github.com/usbarmory/tamago@v1.26.0/arm64/mmu.go", "mismatched types uint64 and uint"} {
		if !strings.Contains(string(msg), want) {
			t.Fatalf("build failed, but not as expected (no %q):\n%s", want, msg)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(string(msg)), "\n") {
		if !strings.HasPrefix(l, "#") && !strings.Contains(l, "/arm64/mmu.go:") {
			t.Fatalf("build error outside tamago's arm64/mmu.go: %s\n%s", l, msg)
		}
	}

	out, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	rt := filepath.Join(strings.TrimSpace(string(out)), "src", "runtime", "os_tamago.go")
	src, err := os.ReadFile(rt)
	if err != nil {
		t.Fatal(err)
	}
	widened := string(src)
	for _, r := range [][2]string{
		{"func MemRegion() (start uint, end uint) {\n\treturn goos.RamStart, goos.RamStart + goos.RamSize\n}",
			"func MemRegion() (start uint64, end uint64) {\n\treturn uint64(goos.RamStart), uint64(goos.RamStart + goos.RamSize)\n}"},
		{"func TextRegion() (start uint, end uint) {\n\treturn uint(firstmoduledata.text), uint(firstmoduledata.etext)\n}",
			"func TextRegion() (start uint64, end uint64) {\n\treturn uint64(firstmoduledata.text), uint64(firstmoduledata.etext)\n}"},
	} {
		if !strings.Contains(widened, r[0]) {
			t.Fatalf("%s: no %q: the toolchain changed", rt, r[0])
		}
		widened = strings.Replace(widened, r[0], r[1], 1)
	}
	ovRT := filepath.Join(t.TempDir(), "os_tamago.go")
	if err := os.WriteFile(ovRT, []byte(widened), 0o644); err != nil {
		t.Fatal(err)
	}
	elf, msg, err := tryBuildBootcheck(t, goBin, b, 768*layout.MiB, map[string]string{rt: ovRT})
	if err != nil {
		t.Fatalf("with MemRegion and TextRegion widened: %v\n%s", err, msg)
	}
	if got := ramSizeOf(t, elf); got != 768*layout.MiB {
		t.Errorf("goos.RamSize = %#x, want %#x", got, 768*layout.MiB)
	}
}

// TestMicrovmTCG boots tamago's own microvm board under TCG. It does not
// get to main: the board's init calls kvm/pvclock.Init, which panics when
// the TSC is not invariant and there is no kvmclock, and TCG offers
// neither (QEMU: "TCG doesn't support requested feature:
// CPUID.80000007H:EDX.invtsc"). The test pins that down: if the board or
// QEMU changes, it fails and the documentation (docs/boards.md) must
// change with it.
func TestMicrovmTCG(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatal("qemu-system-x86_64 is not installed (make deps installs it)")
	}
	goBin := tamagoGo(t)
	k := buildBootcheck(t, goBin, layout.Boards["tamago-microvm"], 768*layout.MiB)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, Board: "microvm", MachineOpts: []string{"x-option-roms=on"},
		MemoryMiB: 1200, Kernel: k, ExtraArgs: []string{"-no-reboot"}, ConsoleLog: logWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	if _, err := vm.Console.ExpectString("panic: could not set system timer", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Console.ExpectString("github.com/usbarmory/tamago/kvm/pvclock.Init", time.Minute); err != nil {
		t.Fatal(err)
	}
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestGCEDiskTCG boots the GCE boot disk make image BOARD=gcp writes
// (pagesnap-board image: gceboot's sector and the flattened kernel) on a
// QEMU PC under TCG, SeaBIOS's legacy boot as on GCE. The boot sector
// loads the kernel and enters it; tamago's gcp board then stops in its own
// init as the microvm board does (pvclock.Init: no invariant TSC or
// kvmclock under TCG), which the test pins down.
func TestGCEDiskTCG(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatal("qemu-system-x86_64 is not installed (make deps installs it)")
	}
	goBin := tamagoGo(t)
	k := buildBootcheck(t, goBin, layout.Boards["gcp"], 768*layout.MiB)
	dir := t.TempDir()
	img := exec.Command("go", "run", "../../cmd/pagesnap-board", "image", "-board", "gcp", "-ram", "768M", "-kernel", k, "-o", dir)
	if out, err := img.CombinedOutput(); err != nil {
		t.Fatalf("pagesnap-board image: %v\n%s", err, out)
	}
	for _, f := range []string{"disk.raw", "pagesnap-gcp.tar.gz", "run-qemu.sh"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, Board: "pc", MemoryMiB: 1200, ConsoleLog: logWriter{t},
		ExtraArgs: []string{"-no-reboot", "-drive", "file=" + filepath.Join(dir, "disk.raw") + ",format=raw,if=ide"}})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	for _, want := range []string{"gceboot: load", "gceboot: jump", "panic: could not set system timer",
		"github.com/usbarmory/tamago/kvm/pvclock.Init", "github.com/usbarmory/tamago/board/google/gcp.init"} {
		if _, err := vm.Console.ExpectString(want, 2*time.Minute); err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
	}
}
