package imx8mpevk_test

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/board/nxp/imx8mpevk"
)

// TestKernelELF builds the pagesnap kernel for the EVK at RAM=768M, as make
// kernel BOARD=imx8mpevk RAM=768M does, and checks what U-Boot's bootelf
// will get: an AArch64 ELF whose segments lie between the boot tables
// (DDR's base + 8 KiB) and the end of the runtime's memory, entered in
// its text, with goos.RamSize as asked, the shared start-up
// (aarch64.Start, reached from this board's cpuinit) and no code of QEMU
// virt's board or of tamago's boards linked in. It does not boot it
// (no EVK, no QEMU model).
func TestKernelELF(t *testing.T) {
	goBin := os.Getenv("TAMAGO_GO")
	if goBin == "" {
		if b, err := os.ReadFile("../../../build/toolchain.goroot"); err == nil {
			goBin = filepath.Join(strings.TrimSpace(string(b)), "bin", "go")
		} else if os.Getenv("CI") == "true" {
			t.Fatal("no GOOS=tamago toolchain: make test sets TAMAGO_GO")
		} else {
			t.Skip("no GOOS=tamago toolchain: set TAMAGO_GO or run make toolchain")
		}
	}
	const ram = 768 * layout.MiB
	b := layout.Boards["imx8mpevk"]
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file, src := layout.MemSizeFile(b, ram)
	gen := filepath.Join(dir, "mem_size.go")
	js, err := layout.Overlay(root, file, gen)
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(gen, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ov, js, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pagesnap-imx8mpevk.elf")
	cmd := exec.Command(goBin, "build", "-overlay", ov, "-tags", b.BuildTags(), "-ldflags", b.LinkerFlags(), "-o", out, "./kernel/cmd/pagesnap")
	cmd.Dir = root
	var env []string
	for _, e := range os.Environ() {
		switch strings.SplitN(e, "=", 2)[0] {
		case "GOROOT", "GOOS", "GOARCH", "GOTOOLCHAIN", "CGO_ENABLED", "GOFLAGS", "GOOSPKG":
			continue
		}
		env = append(env, e)
	}
	cmd.Env = append(env, "GOOS=tamago", "GOARCH=arm64", "GOTOOLCHAIN=local", "GOOSPKG=github.com/usbarmory/tamago")
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, o)
	}

	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		t.Fatalf("machine %v class %v, want a 64-bit AArch64 ELF", f.Machine, f.Class)
	}
	const tablesEnd = imx8mpevk.RamStart + 0x2000 // aarch64.BootTablesSize
	runtimeEnd := uint64(imx8mpevk.RamStart + ram)
	entryInText := false
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Paddr < tablesEnd || p.Paddr+p.Memsz > runtimeEnd {
			t.Errorf("segment %#x-%#x: outside %#x-%#x (after the boot tables, in the runtime's memory)", p.Paddr, p.Paddr+p.Memsz, tablesEnd, runtimeEnd)
		}
		if p.Flags&elf.PF_X != 0 && f.Entry >= p.Vaddr && f.Entry < p.Vaddr+p.Memsz {
			entryInText = true
		}
	}
	if !entryInText {
		t.Errorf("entry %#x is in no executable segment", f.Entry)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range syms {
		have[s.Name] = true
		for _, bad := range []string{"github.com/pagesnap/pagesnap/board/qemu/", "github.com/usbarmory/tamago/board/", "github.com/usbarmory/tamago/arm64."} {
			if strings.HasPrefix(s.Name, bad) {
				t.Errorf("%s is linked in", s.Name)
			}
		}
		if s.Name == "runtime/goos.RamSize" {
			if got := readU64(t, f, s.Value); got != ram {
				t.Errorf("goos.RamSize = %#x, want %#x", got, uint64(ram))
			}
		}
	}
	for _, want := range []string{"cpuinit", "runtime/goos.RamSize"} {
		if !have[want] {
			t.Errorf("no %s in the kernel", want)
		}
	}
	// Start is assembly with a Go declaration: its symbol is the ABI0 one.
	if start := "github.com/pagesnap/pagesnap/board/aarch64.Start"; !have[start] && !have[start+".abi0"] {
		t.Errorf("no %s in the kernel", start)
	}
}

// readU64 reads the initialized 64-bit value at addr.
func readU64(t *testing.T, f *elf.File, addr uint64) uint64 {
	t.Helper()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr+8 <= p.Vaddr+p.Filesz {
			var b [8]byte
			if _, err := p.ReadAt(b[:], int64(addr-p.Vaddr)); err != nil {
				t.Fatal(err)
			}
			return binary.LittleEndian.Uint64(b[:])
		}
	}
	t.Fatalf("%#x is in no initialized segment", addr)
	return 0
}
