package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/board/nxp/imx8mpevk"
)

// imageRefused says why make image cannot produce a board's boot image
// here.
var imageRefused = map[string]string{
	"qemu-microvm": "pagesnap's own QEMU boards boot the kernel ELF directly: make qemu, or qemu-system-* -kernel (README)",
	"qemu-virt":    "pagesnap's own QEMU boards boot the kernel ELF directly: make qemu ARCH=arm64, or qemu-system-aarch64 -kernel (README)",
}

// guestMiB is the memory the image gives the guest (layout.ImageMiB).
func guestMiB(l *layout.Layout) uint64 { return layout.ImageMiB(l) }

// writeImage writes into dir what the platform of l's board boots, and
// returns the files written.
func writeImage(l *layout.Layout, kernel, dir string) ([]string, error) {
	b := l.Board
	if why := layout.Unsupported[b.Name]; why != "" {
		return nil, fmt.Errorf("BOARD=%s: no image: %s", b.Name, why)
	}
	if why := imageRefused[b.Name]; why != "" {
		return nil, fmt.Errorf("BOARD=%s: no image: %s", b.Name, why)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	elf := filepath.Join(dir, "pagesnap.elf")
	if err := copyFile(kernel, elf); err != nil {
		return nil, err
	}
	mem := guestMiB(l)
	files := []string{elf}
	write := func(name string, data []byte, mode os.FileMode) error {
		p := filepath.Join(dir, name)
		files = append(files, p)
		return os.WriteFile(p, data, mode)
	}
	var err error
	switch b.Name {
	case "firecracker":
		var js []byte
		js, err = FirecrackerConfig("pagesnap.elf", mem)
		if err == nil {
			err = write("vm_config.json", js, 0o644)
		}
		if err == nil {
			err = write("run.sh", []byte(script("firecracker --no-api --config-file vm_config.json")), 0o755)
		}
	case "cloud-hypervisor":
		err = write("run.sh", []byte(script(CloudHypervisorCommand("pagesnap.elf", mem))), 0o755)
	case "gcp":
		var disk, tgz string
		if disk, tgz, err = GCEImage(kernel, dir); err == nil {
			files = append(files, disk, tgz)
			err = write("run-qemu.sh", []byte(script(GCEQEMUCommand("disk.raw", mem))), 0o755)
		}
	case "tamago-microvm":
		err = write("run.sh", []byte(script(MicrovmKVMCommand("pagesnap.elf", mem))), 0o755)
	case "imx8mpevk":
		err = write("boot.cmd", []byte(UBootScript(l)), 0o644)
	default:
		err = fmt.Errorf("BOARD=%s: no image format known", b.Name)
	}
	return files, err
}

// UBootStaging is where U-Boot loads the EVK kernel's ELF before bootelf
// copies its segments to their addresses: in the EVK's DDR above 4 GiB
// (imx8mpevk.DDR_BASE + 4 GiB), clear of every segment (a pagesnap kernel
// lies below 4 GiB: board/layout's EndLimit) and of U-Boot's default
// loadaddr (0x40480000 on the EVK), which is inside the kernel's text.
const UBootStaging = imx8mpevk.DDR_BASE + 4<<30

// UBootScript returns the U-Boot commands that load the kernel from the
// SD card's first partition and start it with bootelf (boot.cmd: type
// them at U-Boot's prompt, or make a boot.scr with mkimage -T script).
func UBootScript(l *layout.Layout) string {
	return fmt.Sprintf(`# pagesnap for the %s, RAM=%s (written by pagesnap-board).
# U-Boot loads the kernel ELF at %#x (DDR above 4 GiB, clear of the
# segments bootelf copies to %#x and up) and starts it at EL2.
# From TFTP instead: tftpboot %#x pagesnap.elf
fatload mmc 1:1 %#x pagesnap.elf
bootelf %#x
`, l.Board.Platform, layout.FormatSize(l.RAMSize), uint64(UBootStaging), l.Board.RuntimeStart, uint64(UBootStaging), uint64(UBootStaging), uint64(UBootStaging))
}

func script(cmd string) string {
	return "#!/bin/sh\n# Written by pagesnap-board: boots the pagesnap kernel beside this script.\ncd \"$(dirname \"$0\")\" && exec " + cmd + "\n"
}

// FirecrackerConfig returns a Firecracker --config-file for the kernel at
// path with mem MiB of memory and one vCPU (pagesnap runs on one CPU).
func FirecrackerConfig(path string, mem uint64) ([]byte, error) {
	type bootSource struct {
		KernelImagePath string `json:"kernel_image_path"`
	}
	type machine struct {
		VCPUCount       int    `json:"vcpu_count"`
		MemSizeMiB      uint64 `json:"mem_size_mib"`
		SMT             bool   `json:"smt"`
		TrackDirtyPages bool   `json:"track_dirty_pages"`
	}
	cfg := struct {
		BootSource bootSource `json:"boot-source"`
		Drives     []any      `json:"drives"`
		Machine    machine    `json:"machine-config"`
	}{bootSource{path}, []any{}, machine{1, mem, false, false}}
	js, err := json.MarshalIndent(cfg, "", "  ")
	return append(js, '\n'), err
}

// CloudHypervisorCommand returns the cloud-hypervisor command line that
// boots the kernel at path with mem MiB and one vCPU, the console on the
// serial port.
func CloudHypervisorCommand(path string, mem uint64) string {
	return fmt.Sprintf("cloud-hypervisor --kernel %s --cpus boot=1 --memory size=%dM --serial tty --console off", path, mem)
}

// MicrovmKVMCommand returns the QEMU command line for tamago's microvm
// board under KVM (kvmclock gives its clock; one CPU).
func MicrovmKVMCommand(path string, mem uint64) string {
	return fmt.Sprintf("qemu-system-x86_64 -machine microvm,x-option-roms=on,pit=off,pic=off,rtc=on -enable-kvm -cpu host,invtsc=on,kvmclock=on -smp 1 -m %dM -no-reboot -nographic -monitor none -serial stdio -kernel %s", mem, path)
}

// GCEQEMUCommand returns the QEMU command line that boots disk.raw on a
// PC (SeaBIOS, legacy boot) as GCE does, the console on the serial port;
// -cpu max for RDRAND, which tamago's runtime uses and GCE's CPUs have.
func GCEQEMUCommand(disk string, mem uint64) string {
	return fmt.Sprintf("qemu-system-x86_64 -M pc -cpu max -smp 1 -m %dM -no-reboot -nographic -monitor none -serial stdio -drive file=%s,format=raw,if=ide", mem, disk)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
