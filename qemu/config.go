package qemu

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// Arch names a guest architecture.
type Arch string

// Guest architectures the harness can launch.
const (
	AMD64 Arch = "amd64"
	ARM64 Arch = "arm64"
)

// Binary returns the QEMU system emulator for the architecture.
func (a Arch) Binary() (string, error) {
	switch a {
	case AMD64:
		return "qemu-system-x86_64", nil
	case ARM64:
		return "qemu-system-aarch64", nil
	}
	return "", fmt.Errorf("qemu: unknown arch %q (want %q or %q)", string(a), AMD64, ARM64)
}

// DefaultBoard returns the machine type used when Config.Board is empty:
// microvm for amd64 and virt for arm64.
func (a Arch) DefaultBoard() string {
	if a == ARM64 {
		return "virt"
	}
	return "microvm"
}

// RAMBase returns the guest physical address of the first byte of RAM on
// board for the architecture: 0 on x86 machines, 0x40000000 on arm64 virt.
func (a Arch) RAMBase(board string) uint64 {
	if a == ARM64 && (board == "" || strings.HasPrefix(board, "virt")) {
		return 0x40000000
	}
	return 0
}

// Accelerators.
const (
	TCG = "tcg"
	KVM = "kvm"
)

// DebugExitPort is the I/O port of the isa-debug-exit device added by
// Config.DebugExit on amd64: a guest write of V makes QEMU exit with status
// (V<<1)|1.
const DebugExitPort = 0xf4

// Config describes one QEMU run.
type Config struct {
	// Arch is the guest architecture (AMD64 or ARM64). Required.
	Arch Arch
	// Board is the machine type (-M); empty means Arch.DefaultBoard().
	Board string
	// MachineOpts are appended to -M as ",opt" (for example "gic-version=3").
	MachineOpts []string
	// Accel is TCG (default) or KVM.
	Accel string
	// CPU is the -cpu model. Empty picks "max" for amd64 under TCG (tamago
	// needs RDRAND, which QEMU's default qemu64 model lacks: the kernel
	// triple-faults on its first rdrand), QEMU's default under KVM (where
	// "max" aborts on these hosts), and "cortex-a57" for arm64.
	CPU string
	// MemoryMiB is the guest RAM size in MiB; 0 means 128.
	MemoryMiB int
	// SMP is the number of virtual CPUs; 0 means 1.
	SMP int
	// Kernel is the kernel image passed with -kernel. Required unless
	// ExtraArgs boot something else.
	Kernel string
	// Append is the kernel command line (-append).
	Append string
	// Devices are -device arguments, one per entry.
	Devices []string
	// DebugExit adds isa-debug-exit at DebugExitPort (amd64 only).
	DebugExit bool
	// MemPath, when set, backs guest RAM with a shared file at this path
	// (for example /dev/shm/pagesnap-ram) so memory stays readable after
	// QEMU exits. The file is not removed by the harness.
	MemPath string
	// GDB starts QEMU's gdbstub on a private Unix socket; see VM.GDB.
	GDB bool
	// Paused starts the guest stopped (-S); resume with QMP cont or GDB.
	Paused bool
	// ICount runs TCG with -icount shift=0,sleep=off so guest time is a
	// function of executed instructions, not of emulation speed.
	ICount bool
	// PauseOnReset makes resets and triple faults stop the guest instead of
	// rebooting, so registers and memory can still be inspected
	// (-action reboot=shutdown,shutdown=pause).
	PauseOnReset bool
	// ExtraArgs are appended verbatim to the command line.
	ExtraArgs []string
	// QEMU overrides the emulator binary (path or name in PATH).
	QEMU string
	// ConsoleLog, when set, receives every complete console line as the
	// guest prints it (for example a test's log writer).
	ConsoleLog io.Writer
	// Dir holds the QMP and gdbstub sockets; empty means a fresh temporary
	// directory removed by VM.Kill/Wait.
	Dir string
}

func (c *Config) board() string {
	if c.Board != "" {
		return c.Board
	}
	return c.Arch.DefaultBoard()
}

func (c *Config) memMiB() int {
	if c.MemoryMiB > 0 {
		return c.MemoryMiB
	}
	return 128
}

// binary resolves the QEMU executable, failing with a clear message when it
// is not installed.
func (c *Config) binary() (string, error) {
	name := c.QEMU
	if name == "" {
		var err error
		if name, err = c.Arch.Binary(); err != nil {
			return "", err
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v (install QEMU 7.2: Debian packages qemu-system-x86 / qemu-system-arm)", ErrNoQEMU, name, err)
	}
	return p, nil
}

// ErrNoQEMU is returned by Start when the emulator binary cannot be found.
var ErrNoQEMU = errors.New("qemu: emulator not found")

// Args returns the QEMU command line (without the binary) for the config,
// with the QMP and gdbstub sockets in dir.
func (c *Config) Args(dir string) ([]string, error) {
	if _, err := c.Arch.Binary(); err != nil {
		return nil, err
	}
	accel := c.Accel
	if accel == "" {
		accel = TCG
	}
	if accel != TCG && accel != KVM {
		return nil, fmt.Errorf("qemu: unknown accelerator %q (want tcg or kvm)", accel)
	}
	if c.ICount && accel != TCG {
		return nil, errors.New("qemu: icount needs tcg")
	}
	if c.DebugExit && c.Arch != AMD64 {
		return nil, errors.New("qemu: isa-debug-exit is an x86 device")
	}
	mem := c.memMiB()
	machine := c.board()
	for _, o := range c.MachineOpts {
		machine += "," + o
	}
	var a []string
	if c.MemPath != "" {
		machine += ",memory-backend=pagesnap-ram"
		a = append(a, "-object", fmt.Sprintf("memory-backend-file,id=pagesnap-ram,size=%dM,mem-path=%s,share=on", mem, c.MemPath))
	}
	a = append(a,
		"-M", machine,
		"-accel", accel,
		"-m", strconv.Itoa(mem)+"M",
		"-nodefaults", "-no-user-config", "-display", "none",
		"-serial", "stdio",
		"-monitor", "none",
		"-qmp", "unix:"+dir+"/qmp.sock,server=on,wait=off",
	)
	if c.SMP > 1 {
		a = append(a, "-smp", strconv.Itoa(c.SMP))
	}
	cpu := c.CPU
	switch {
	case cpu != "":
	case c.Arch == ARM64:
		cpu = "cortex-a57"
	case accel == TCG:
		cpu = "max"
	}
	if cpu != "" {
		a = append(a, "-cpu", cpu)
	}
	if c.Kernel != "" {
		a = append(a, "-kernel", c.Kernel)
	}
	if c.Append != "" {
		a = append(a, "-append", c.Append)
	}
	if c.DebugExit {
		a = append(a, "-device", fmt.Sprintf("isa-debug-exit,iobase=%#x,iosize=4", DebugExitPort))
	}
	for _, d := range c.Devices {
		a = append(a, "-device", d)
	}
	if c.GDB {
		a = append(a, "-chardev", "socket,id=pagesnap-gdb,path="+dir+"/gdb.sock,server=on,wait=off", "-gdb", "chardev:pagesnap-gdb")
	}
	if c.Paused {
		a = append(a, "-S")
	}
	if c.ICount {
		a = append(a, "-icount", "shift=0,sleep=off")
	}
	if c.PauseOnReset {
		a = append(a, "-action", "reboot=shutdown,shutdown=pause")
	}
	a = append(a, c.ExtraArgs...)
	return a, nil
}
