package qemu_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/gdb"
	"github.com/pagesnap/pagesnap/qemu/internal/testguest"
)

// needQEMU fails the test, saying why, when qemu-system-x86_64 is not
// installed: these tests are the harness's own checks.
func needQEMU(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatalf("qemu-system-x86_64 is needed (Debian package qemu-system-x86): %v", err)
	}
}

// guest writes the test guest with the command word preset to cmd and
// returns its path.
func guest(t *testing.T, cmd uint32) (*testguest.Guest, string) {
	t.Helper()
	g, err := testguest.Build(cmd)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "guest.elf")
	if err := g.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return g, p
}

func start(t *testing.T, cfg qemu.Config) *qemu.VM {
	t.Helper()
	if cfg.Arch == "" {
		cfg.Arch = qemu.AMD64
	}
	if cfg.MemoryMiB == 0 {
		cfg.MemoryMiB = 16
	}
	cfg.DebugExit = true
	return qemu.StartTest(t, cfg)
}

func processGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("QEMU pid %d still exists after kill (kill -0: %v)", pid, err)
	}
}

func TestMissingBinary(t *testing.T) {
	_, err := qemu.Start(context.Background(), qemu.Config{Arch: qemu.AMD64, QEMU: "qemu-system-does-not-exist"})
	if !errors.Is(err, qemu.ErrNoQEMU) || !strings.Contains(err.Error(), "qemu-system-does-not-exist") {
		t.Fatalf("got %v, want ErrNoQEMU naming the binary", err)
	}
	_, err = qemu.Start(context.Background(), qemu.Config{Arch: "mips"})
	if err == nil || !strings.Contains(err.Error(), `unknown arch "mips"`) {
		t.Fatalf("bad arch: %v", err)
	}
}

func TestArgs(t *testing.T) {
	cfg := qemu.Config{Arch: qemu.ARM64, MemoryMiB: 256, Kernel: "k.elf", GDB: true, Paused: true, ICount: true,
		MemPath: "/dev/shm/x", MachineOpts: []string{"gic-version=3"}, Devices: []string{"virtio-rng-device"}}
	a, err := cfg.Args("/d")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(a, " ")
	for _, want := range []string{
		"-object memory-backend-file,id=pagesnap-ram,size=256M,mem-path=/dev/shm/x,share=on",
		"-M virt,gic-version=3,memory-backend=pagesnap-ram",
		"-accel tcg", "-m 256M", "-cpu cortex-a57", "-kernel k.elf", "-device virtio-rng-device",
		"-qmp unix:/d/qmp.sock,server=on,wait=off",
		"-gdb chardev:pagesnap-gdb", " -S", "-icount shift=0,sleep=off",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("args lack %q:\n%s", want, got)
		}
	}
	for _, bad := range []qemu.Config{
		{Arch: qemu.ARM64, DebugExit: true},
		{Arch: qemu.AMD64, Accel: "kvm", ICount: true},
		{Arch: qemu.AMD64, Accel: "hvf"},
	} {
		if _, err := bad.Args("/d"); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if qemu.ARM64.RAMBase("virt") != 0x40000000 || qemu.AMD64.RAMBase("microvm") != 0 {
		t.Error("RAMBase")
	}
}

// TestBootExitCode boots a guest that prints its banner and exits through
// isa-debug-exit with 7: QEMU must exit with status 15.
func TestBootExitCode(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 7)
	vm := start(t, qemu.Config{Kernel: p})
	if _, err := vm.Console.ExpectString(testguest.Banner, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := vm.Wait(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.Code != 15 || st.Killed {
		t.Fatalf("status %v, want exit status 15", st)
	}
	if v, ok := st.DebugExit(); !ok || v != 7 {
		t.Fatalf("DebugExit = %d, %v", v, ok)
	}
	// Expecting after exit reports the exit, not a timeout.
	_, err = vm.Console.ExpectString("never printed", 5*time.Second)
	if !errors.Is(err, qemu.ErrExited) || !strings.Contains(err.Error(), "exit status 15") {
		t.Fatalf("expect after exit: %v", err)
	}
	processGone(t, vm.Pid())
}

// TestTimeoutKills waits for a line that never comes: Expect must time out
// (quoting the console), and Kill must leave no process behind.
func TestTimeoutKills(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p})
	t0 := time.Now()
	_, err := vm.Console.Expect(regexp.MustCompile(`^snap: complete`), 1500*time.Millisecond)
	if !errors.Is(err, qemu.ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(t0); d < 1500*time.Millisecond || d > 10*time.Second {
		t.Fatalf("timeout after %v", d)
	}
	if !strings.Contains(err.Error(), testguest.Banner) {
		t.Fatalf("timeout error does not quote the console: %v", err)
	}
	st := vm.Kill()
	if !st.Killed {
		t.Fatalf("status %v", st)
	}
	processGone(t, vm.Pid())
	if _, err := os.Stat(vm.Dir); !os.IsNotExist(err) {
		t.Fatalf("socket dir %s left behind", vm.Dir)
	}
}

// TestContextCancelKills: cancelling the Start context kills QEMU.
func TestContextCancelKills(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, Kernel: p, MemoryMiB: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	cancel()
	select {
	case <-vm.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("QEMU still running 10 s after cancel")
	}
	if !vm.Status().Killed {
		t.Fatalf("status %v", vm.Status())
	}
	processGone(t, vm.Pid())
}

// TestWaitTimeoutKills: Wait on a guest that never exits kills it.
func TestWaitTimeoutKills(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p})
	st, err := vm.Wait(500 * time.Millisecond)
	if err == nil || !st.Killed {
		t.Fatalf("Wait: %v, %v", st, err)
	}
	processGone(t, vm.Pid())
}

// TestBadKernel: QEMU's own error is reported, not a hang.
func TestBadKernel(t *testing.T) {
	needQEMU(t)
	p := filepath.Join(t.TempDir(), "junk.elf")
	os.WriteFile(p, []byte("not an elf at all"), 0o644)
	vm := start(t, qemu.Config{Kernel: p})
	_, err := vm.Console.ExpectString("anything", 20*time.Second)
	if !errors.Is(err, qemu.ErrExited) || !strings.Contains(err.Error(), "qemu stderr") {
		t.Fatalf("got %v", err)
	}
	if _, err := qemu.Start(context.Background(), qemu.Config{Arch: qemu.AMD64, Kernel: "/nonexistent.elf"}); err == nil {
		t.Fatal("missing kernel accepted")
	}
}

// TestSendEcho types a console command; the guest echoes it back.
func TestSendEcho(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p})
	if _, err := vm.Console.ExpectString(testguest.Banner, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := vm.Send("snap status"); err != nil {
		t.Fatal(err)
	}
	m, err := vm.Console.Expect(regexp.MustCompile(`^snap (\w+)$`), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Groups[1] != "status" || m.Index != 1 {
		t.Fatalf("match %+v", m)
	}
}

// TestQMP stops the guest, saves the loaded image with pmemsave and
// compares it bit for bit (the counter page excepted, which the guest
// writes), checks the counter is frozen while stopped and moves after cont,
// then makes the guest exit by writing its command word through the
// gdbstub.
func TestQMP(t *testing.T) {
	needQEMU(t)
	g, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p})
	if _, err := vm.Console.ExpectString(testguest.Banner, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// An echoed line proves the main loop (which ticks first) has run.
	vm.Send("x")
	if _, err := vm.Console.Expect(regexp.MustCompile(`^x$`), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	q, err := vm.QMP()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q.Version(), "7.") && !strings.HasPrefix(q.Version(), "8.") && !strings.HasPrefix(q.Version(), "9.") {
		t.Logf("QEMU version %s", q.Version())
	}
	if err := q.Stop(); err != nil {
		t.Fatal(err)
	}
	if s, err := q.Status(); err != nil || s != "paused" {
		t.Fatalf("status %q, %v", s, err)
	}
	dir := t.TempDir()
	save := func(name string) []byte {
		f := filepath.Join(dir, name)
		if err := q.Pmemsave(testguest.LoadAddr, testguest.ImageEnd-testguest.LoadAddr, f); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := save("a")
	time.Sleep(50 * time.Millisecond)
	b := save("b")
	if !bytes.Equal(a, b) {
		t.Fatal("memory changed while paused")
	}
	ctr := testguest.CounterAddr - testguest.LoadAddr
	if !bytes.Equal(a[:ctr], g.Image[:ctr]) || !bytes.Equal(a[ctr+4:], g.Image[ctr+4:]) {
		t.Fatal("pmemsave differs from the loaded ELF segment")
	}
	n0 := binary.LittleEndian.Uint32(a[ctr:])
	if n0 == 0 {
		t.Fatal("counter is 0: guest never ticked")
	}
	if err := q.Cont(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := q.Stop(); err != nil {
		t.Fatal(err)
	}
	if n1 := binary.LittleEndian.Uint32(save("c")[ctr:]); n1 == n0 {
		t.Fatalf("counter frozen at %d after cont", n0)
	}
	out, err := q.HMP("info status")
	if err != nil || !strings.Contains(out, "paused") {
		t.Fatalf("HMP: %q %v", out, err)
	}
	if _, err := q.Run("no-such-command", nil); err == nil {
		t.Fatal("unknown QMP command accepted")
	}
	if err := q.Quit(); err != nil && !errors.Is(err, qemu.ErrExited) {
		t.Logf("quit: %v", err) // QEMU may close the socket before answering
	}
	st, err := vm.Wait(20 * time.Second)
	if err != nil || st.Code != 0 {
		t.Fatalf("after quit: %v %v", st, err)
	}
}

// TestGDB stops at the Tick function with a breakpoint, checks the PC,
// reads and writes memory (physical and virtual) and registers, then makes
// the guest exit with 42 by writing its command word.
func TestGDB(t *testing.T) {
	needQEMU(t)
	g, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p, GDB: true, Paused: true})
	c, err := vm.GDB()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Reg("rip"); !ok {
		t.Fatalf("no rip in target description (%s, %d regs)", c.Arch, len(c.Regs))
	}
	tick := g.Symbols["tick"]
	for i := 0; i < 3; i++ {
		if _, err := c.RunTo(tick, 20*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	regs, err := c.Registers()
	if err != nil {
		t.Fatal(err)
	}
	if regs["rip"] != tick || regs["rsp"] == 0 || regs["rsp"] >= testguest.StackTop {
		t.Fatalf("rip %#x rsp %#x", regs["rip"], regs["rsp"])
	}
	// The return address on the stack is right after the call in main_loop.
	ret, err := c.ReadMemory(regs["rsp"], 4)
	if err != nil {
		t.Fatal(err)
	}
	if r := uint64(binary.LittleEndian.Uint32(ret)); r != g.Symbols["main_loop"]+5 {
		t.Fatalf("return address %#x, want %#x", r, g.Symbols["main_loop"]+5)
	}
	for _, phys := range []bool{true, false} {
		if err := c.SetPhysical(phys); err != nil {
			t.Fatal(err)
		}
		code, err := c.ReadMemory(testguest.LoadAddr, 3000)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(code, g.Image[:3000]) {
			t.Fatalf("phys=%v: code read differs", phys)
		}
	}
	ctr, err := c.ReadMemory(testguest.CounterAddr, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Three stops at tick, before its increment: two increments done.
	if n := binary.LittleEndian.Uint32(ctr); n != 2 {
		t.Fatalf("counter %d at the third tick, want 2", n)
	}
	// A step executes the increment.
	if _, err := c.Step(); err != nil {
		t.Fatal(err)
	}
	ctr, _ = c.ReadMemory(testguest.CounterAddr, 4)
	if n := binary.LittleEndian.Uint32(ctr); n != 3 {
		t.Fatalf("counter %d after step, want 3", n)
	}
	if err := c.WriteRegister("rax", 0x1234); err != nil {
		t.Fatal(err)
	}
	if v, err := c.ReadRegister("rax"); err != nil || v != 0x1234 {
		t.Fatalf("rax %#x %v", v, err)
	}
	if err := c.WriteMemory(testguest.CmdAddr, []byte{42, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	st, err := vm.Wait(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := st.DebugExit(); !ok || v != 42 {
		t.Fatalf("status %v", st)
	}
	if _, err := c.ReadMemory(0, 1); err == nil {
		t.Fatal("read after exit succeeded")
	}
}

// TestGDBInterrupt: a running guest is stopped by Interrupt, and a Wait
// that times out reports it.
func TestGDBInterrupt(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p, GDB: true})
	c, err := vm.GDB()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(300 * time.Millisecond); err == nil {
		t.Fatal("Wait returned a stop for a free-running guest")
	}
	st, err := c.Interrupt()
	if err != nil {
		t.Fatal(err)
	}
	if st.Signal != 2 && st.Signal != 5 {
		t.Fatalf("stop %+v", st)
	}
	if _, err := c.PC(); err != nil {
		t.Fatal(err)
	}

}

// TestFault makes the guest execute UD2 with no IDT: the triple fault
// pauses the VM (PauseOnReset) and Fault decodes the instruction at EIP.
func TestFault(t *testing.T) {
	needQEMU(t)
	g, p := guest(t, testguest.CmdFault)
	vm := start(t, qemu.Config{Kernel: p, PauseOnReset: true})
	if _, err := vm.Console.ExpectString(testguest.Banner, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	q, err := vm.QMP()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := q.Status()
		if err != nil {
			t.Fatal(err)
		}
		if s != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("guest still running")
		}
		time.Sleep(20 * time.Millisecond)
	}
	sym := func(a uint64) (string, uint64) {
		if a == g.Symbols["fault"] {
			return "fault", a
		}
		return "", 0
	}
	f, err := vm.Fault(sym)
	if err != nil {
		t.Fatal(err)
	}
	if f.CPU.PC != g.Symbols["fault"] || f.InstErr != nil || f.Inst.Text != "ud2" || f.Inst.Sym != "fault" {
		t.Fatalf("fault: %s", f)
	}
	want := fmt.Sprintf("at pc %#x: %#x <fault>: 0f0b  ud2", f.CPU.PC, f.CPU.PC)
	if !strings.Contains(f.String(), want) {
		t.Fatalf("%q lacks %q", f.String(), want)
	}
}

func TestParseRegistersARM64(t *testing.T) {
	out := " PC=0000000040080010 X00=0000000000000001 X01=0000000000000002\nPSTATE=400003c5 -Z-- EL1h\n"
	st, err := qemu.ParseRegisters(qemu.ARM64, out)
	if err != nil || st.PC != 0x40080010 || st.Regs["X01"] != 2 || st.Regs["PSTATE"] != 0x400003c5 {
		t.Fatalf("%+v %v", st, err)
	}
	if _, err := qemu.ParseRegisters(qemu.AMD64, out); err == nil {
		t.Fatal("x86 parse of arm64 output succeeded")
	}
}

// TestARM64 runs the arm64 test guest on virt: console echo, gdbstub
// breakpoints and registers with the aarch64 target description, the
// fault report's register parsing and A64 decoding, and PSCI SYSTEM_OFF.
func TestARM64(t *testing.T) {
	if _, err := (&qemu.Config{Arch: qemu.ARM64}).Args("/x"); err != nil {
		t.Fatal(err)
	}
	g, err := testguest.BuildARM64(0)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "guest.elf")
	if err := g.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	vm, err := qemu.Start(context.Background(), qemu.Config{Arch: qemu.ARM64, MemoryMiB: 64, Kernel: p, GDB: true})
	if err != nil {
		t.Fatal(err) // qemu-system-aarch64 missing: Debian package qemu-system-arm
	}
	defer vm.Kill()
	if _, err := vm.Console.ExpectString(testguest.Banner, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	vm.Send("snap verify")
	if _, err := vm.Console.Expect(regexp.MustCompile(`^snap verify$`), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	f, err := vm.Fault(func(a uint64) (string, uint64) {
		if a >= g.Symbols["tick"] && a < g.Symbols["putc"] {
			return "tick", g.Symbols["tick"]
		}
		return "", 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.CPU.PC < testguest.ARM64LoadAddr || f.CPU.PC >= g.Symbols["msg"] || f.CPU.Mode != "arm64" || f.RunState != "paused" {
		t.Fatalf("fault report %s", f)
	}
	// Every instruction of the main loop but HVC/UDF decodes.
	if f.InstErr != nil && f.CPU.PC != g.Symbols["halt"]-4 && f.CPU.PC != g.Symbols["fault"] {
		t.Fatalf("decode at %#x: %v", f.CPU.PC, f.InstErr)
	}
	q, _ := vm.QMP()
	if err := q.Cont(); err != nil {
		t.Fatal(err)
	}
	c, err := vm.GDB()
	if err != nil {
		t.Fatal(err)
	}
	if c.PCName() != "pc" {
		t.Fatalf("pc register %q in %s", c.PCName(), c.Arch)
	}
	// Connecting stopped the guest mid-loop: take the count from there.
	ctr0, err := c.ReadMemory(testguest.ARM64CounterAddr, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.RunTo(g.Symbols["tick"], 20*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	regs, err := c.Registers()
	if err != nil {
		t.Fatal(err)
	}
	if regs["pc"] != g.Symbols["tick"] || regs["x30"] != g.Symbols["main_loop"]+4 || regs["x5"] != testguest.ARM64CounterAddr {
		t.Fatalf("pc %#x x30 %#x x5 %#x", regs["pc"], regs["x30"], regs["x5"])
	}
	ctr, _ := c.ReadMemory(testguest.ARM64CounterAddr, 4)
	n0, n := binary.LittleEndian.Uint32(ctr0), binary.LittleEndian.Uint32(ctr)
	if n-n0 < 2 || n-n0 > 3 {
		t.Fatalf("counter %d -> %d over three ticks", n0, n)
	}
	code, err := c.ReadMemory(testguest.ARM64LoadAddr, 0x80)
	if err != nil || !bytes.Equal(code, g.Image[:0x80]) {
		t.Fatalf("code read: %v", err)
	}
	if err := c.WriteMemory(testguest.ARM64CmdAddr, []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	st, err := vm.Wait(20 * time.Second)
	if err != nil || st.Code != 0 || st.Killed {
		t.Fatalf("PSCI SYSTEM_OFF: %v %v", st, err)
	}
}

// TestSendTimeout: a guest that never reads its serial port (it halts
// after printing) makes Send fail with ErrTimeout once QEMU stops
// draining the pipe, instead of blocking.
func TestSendTimeout(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p, Paused: true}) // vCPU never runs: nothing reads the UART
	old := qemu.SendTimeout
	qemu.SendTimeout = 500 * time.Millisecond
	defer func() { qemu.SendTimeout = old }()
	big := strings.Repeat("x", 1<<20)
	err := vm.Console.SendRaw([]byte(big))
	if !errors.Is(err, qemu.ErrTimeout) || !strings.Contains(err.Error(), "not reading its serial port") {
		t.Fatalf("got %v", err)
	}
}

func TestShutdown(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p})
	if _, err := vm.Console.ExpectString(testguest.Banner, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := vm.Shutdown(20 * time.Second)
	if err != nil || st.Code != 0 || st.Killed || st.Signal != 0 {
		t.Fatalf("%v %v", st, err)
	}
	processGone(t, vm.Pid())
	if st2, err := vm.Shutdown(time.Second); err != nil || st2 != st {
		t.Fatalf("second shutdown: %v %v", st2, err)
	}
}

// TestStartTestKills: a VM started with StartTest in a subtest is gone
// when the subtest returns.
func TestStartTestKills(t *testing.T) {
	needQEMU(t)
	_, p := guest(t, 0)
	var vm *qemu.VM
	t.Run("sub", func(t *testing.T) {
		vm = qemu.StartTest(t, qemu.Config{Arch: qemu.AMD64, MemoryMiB: 16, Kernel: p})
		if _, err := vm.Console.ExpectString(testguest.Banner, 20*time.Second); err != nil {
			t.Fatal(err)
		}
	})
	if !vm.Exited() || !vm.Status().Killed {
		t.Fatalf("VM still running after its test: %v", vm.Exited())
	}
	processGone(t, vm.Pid())
}

// TestGDBWatchpoint: a write watchpoint on the counter stops the guest
// right after the store in tick, with the watched address reported.
func TestGDBWatchpoint(t *testing.T) {
	needQEMU(t)
	g, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p, GDB: true, Paused: true})
	c, err := vm.GDB()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetBreakpoint(gdb.WatchWrite, testguest.CounterAddr, 4); err != nil {
		t.Fatal(err)
	}
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	st, err := c.Wait(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.WatchKind != "watch" || st.WatchAddr != testguest.CounterAddr {
		t.Fatalf("stop %+v", st)
	}
	pc, err := c.PC()
	if err != nil {
		t.Fatal(err)
	}
	// x86 watchpoints stop after the store: at the ret following the inc.
	if pc != g.Symbols["tick"]+6 {
		t.Fatalf("pc %#x, want %#x", pc, g.Symbols["tick"]+6)
	}
	ctr, _ := c.ReadMemory(testguest.CounterAddr, 4)
	if binary.LittleEndian.Uint32(ctr) != 1 {
		t.Fatalf("counter %x", ctr)
	}
	if err := c.ClearBreakpoint(gdb.WatchWrite, testguest.CounterAddr, 4); err != nil {
		t.Fatal(err)
	}
}

// TestGDBAfterQMPStop: QMP stop/cont while the gdb client waits leaves an
// extra stop reply queued; Interrupt must drain it so the next memory read
// gets its own answer.
func TestGDBAfterQMPStop(t *testing.T) {
	needQEMU(t)
	g, p := guest(t, 0)
	vm := start(t, qemu.Config{Kernel: p, GDB: true})
	c, err := vm.GDB()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Continue(); err != nil {
		t.Fatal(err)
	}
	q, err := vm.QMP()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := q.Cont(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Interrupt(); err != nil {
		t.Fatal(err)
	}
	code, err := c.ReadMemory(g.Symbols["tick"], 6)
	if err != nil || !bytes.Equal(code, g.Image[g.Symbols["tick"]-testguest.LoadAddr:][:6]) {
		t.Fatalf("read after mixed stops: % x %v", code, err)
	}
}
