package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"layout", "-board", "qemu-microvm", "-ram", "3G"}, "pagesnap-board: RAM size: RAM=3G does not fit qemu-microvm:"},
		{[]string{"layout", "-arch", "arm64", "-ram", "3058M"}, "the largest size is RAM=3056M"},
		{[]string{"layout", "-board", "pi4"}, "BOARD=pi4 is not supported: use one of:"},
		{[]string{"layout", "-arch", "riscv64"}, "ARCH=riscv64 is not supported"},
		{[]string{"image", "-board", "gcp", "-kernel", "k", "-o", t.TempDir()}, "pagesnap-board: open k: no such file"},
		{[]string{"image", "-board", "qemu-virt", "-kernel", "k", "-o", "d"}, "BOARD=qemu-virt: no image: pagesnap's own QEMU boards boot the kernel ELF directly"},
		{[]string{"layout", "-board", "firecracker", "-ram", "1.5G"}, "is not a size"},
	} {
		code, _, stderr := runTool(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	root := t.TempDir()
	for _, tc := range []struct {
		board, ram, file, want string
	}{
		{"qemu-microvm", "768M", "board/qemu/microvm/mem_size.go", "const ramSizeBytes = 0x30000000\n"},
		{"qemu-virt", "3056M", "board/qemu/virt/mem_size.go", "const runtimeRamEnd = DTBAddress + 0xbf000000\n"},
		{"firecracker", "", "board/tamago/mem_size.go", "//go:linkname ramSize runtime/goos.RamSize\nvar ramSize uint64 = 0x40000000\n"},
		{"imx8mpevk", "768M", "board/nxp/imx8mpevk/mem_size.go", "const ramSizeBytes = 0x30000000\n"},
	} {
		ov := filepath.Join(dir, tc.board+".json")
		args := []string{"env", "-board", tc.board, "-root", root, "-o", ov}
		if tc.ram != "" {
			args = append(args, "-ram", tc.ram)
		}
		code, stdout, stderr := runTool(t, args...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, stderr)
		}
		var o struct{ Replace map[string]string }
		b, err := os.ReadFile(ov)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		gen, ok := o.Replace[filepath.Join(root, tc.file)]
		if !ok || len(o.Replace) != 1 {
			t.Fatalf("%s: overlay %v, want %s replaced", tc.board, o.Replace, tc.file)
		}
		src, err := os.ReadFile(gen)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(string(src), tc.want) {
			t.Errorf("%s: generated\n%s\nwant it to end with\n%s", tc.board, src, tc.want)
		}
		if !strings.Contains(stdout, "OVERLAY='"+ov+"'") {
			t.Errorf("%s: env output %q", tc.board, stdout)
		}
	}
	code, stdout, _ := runTool(t, "flags", "-board", "cloud-hypervisor")
	if code != 0 || stdout != "-tags=\"linkramsize board_cloud_hypervisor\" -ldflags=\"-T 0x10010000 -R 0x1000\"\n" {
		t.Errorf("flags: %d %q", code, stdout)
	}
}

func TestImages(t *testing.T) {
	k := filepath.Join(t.TempDir(), "k.elf")
	if err := os.WriteFile(k, []byte("\x7fELF kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		board string
		files []string
		want  map[string]string
	}{
		{"firecracker", []string{"pagesnap.elf", "vm_config.json", "run.sh"}, map[string]string{
			"vm_config.json": `"kernel_image_path": "pagesnap.elf"`,
			"run.sh":         "exec firecracker --no-api --config-file vm_config.json\n",
		}},
		{"cloud-hypervisor", []string{"pagesnap.elf", "run.sh"}, map[string]string{
			"run.sh": "exec cloud-hypervisor --kernel pagesnap.elf --cpus boot=1 --memory size=4672M --serial tty --console off\n",
		}},
		{"tamago-microvm", []string{"pagesnap.elf", "run.sh"}, map[string]string{
			"run.sh": "-enable-kvm -cpu host,invtsc=on,kvmclock=on -smp 1 -m 4672M",
		}},
		{"imx8mpevk", []string{"pagesnap.elf", "boot.cmd"}, map[string]string{
			"boot.cmd": "\nfatload mmc 1:1 0x140000000 pagesnap.elf\nbootelf 0x140000000\n",
		}},
	} {
		dir := filepath.Join(t.TempDir(), "img")
		code, stdout, stderr := runTool(t, "image", "-board", tc.board, "-kernel", k, "-o", dir)
		if code != 0 {
			t.Fatalf("%s: %d %s", tc.board, code, stderr)
		}
		if n := len(strings.Fields(stdout)); n != len(tc.files) {
			t.Errorf("%s: wrote %q, want %v", tc.board, stdout, tc.files)
		}
		for _, f := range tc.files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if w, ok := tc.want[f]; ok && !strings.Contains(string(b), w) {
				t.Errorf("%s/%s:\n%s\nwant %q", tc.board, f, b, w)
			}
			if f == "pagesnap.elf" && string(b) != "\x7fELF kernel" {
				t.Errorf("%s: kernel not copied", tc.board)
			}
		}
		if tc.board == "firecracker" {
			var cfg struct {
				Machine struct {
					VCPU int    `json:"vcpu_count"`
					Mem  uint64 `json:"mem_size_mib"`
				} `json:"machine-config"`
			}
			b, _ := os.ReadFile(filepath.Join(dir, "vm_config.json"))
			if err := json.Unmarshal(b, &cfg); err != nil || cfg.Machine.VCPU != 1 || cfg.Machine.Mem != 4672 {
				t.Errorf("vm_config.json: %+v %v, want 1 vCPU and 4672 MiB (the 1G plan's 4621 MiB rounded up to 64)", cfg, err)
			}
		}
	}
}
