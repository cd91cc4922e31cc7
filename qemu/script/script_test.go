package script

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/internal/imagetest"
	"github.com/pagesnap/pagesnap/qemu/internal/testguest"
	"github.com/pagesnap/pagesnap/qemu/verify"
	"github.com/pagesnap/pagesnap/snapshot"
)

func TestParseErrors(t *testing.T) {
	base := "arch: amd64\nkernel: testguest\nexpect: ok\n"
	for _, c := range []struct{ src, want string }{
		{"", "script: empty"},
		{"arch: amd64\nkernel: k\nsteps:\n  - sleep: 1s\n", "expect is required"},
		{"arch: riscv\nkernel: k\nexpect: ok\nsteps:\n  - sleep: 1s\n", `arch "riscv"`},
		{base + "steps:\n  - sleep: 1s\n    send: x\n", "step at line 5: want exactly one action, got 2"},
		{base + "steps:\n  - write: {addr: 0x10, u32: 1, size: 4}\n", "line 5: field size not found in writestep"},
		{base + "steps:\n  - {}\n", "want exactly one action, got 0"},
		{base + "steps:\n  - sleeep: 1s\n", "field sleeep not found"},
		{base + "bogus: 1\nsteps:\n  - sleep: 1s\n", "field bogus not found"},
		{base + "steps:\n  - sleep: soon\n", `line 5: bad duration "soon"`},
		{base + "steps:\n  - expect: \"([\"\n", "expect: error parsing regexp"},
		{base + "steps:\n  - write: {addr: 0x10, u32: 1, bytes: \"00\"}\n", "exactly one of bytes, u32, u64"},
		{base + "steps:\n  - snapshot: {}\n", "snapshot step needs the instant symbol"},
		{base + "instant: tick\nsteps:\n  - verify: {}\n", "verify before any snapshot step"},
		{base + "instant: tick\nsteps:\n  - snapshot: {}\n  - verify: {}\n", "verify needs storage"},
		{base + "steps:\n  - irq_storm: {kind: smi, count: 3}\n", `irq_storm kind "smi"`},
		{base + "steps:\n  - dma: {addr: 0, len: 4, pattern: \"00\", mode: concurrent}\n", "dma mode concurrent needs keep_memory"},
		{base + "steps:\n  - write: {addr: \"a b\", u32: 1}\n", `bad address "a b"`},
		{"arch: amd64\nkernel: k\nexpect: error explode\nsteps:\n  - sleep: 1s\n", `unknown error "explode"`},
		{"arch: amd64\nkernel: k\nexpect: verified\nsteps:\n  - sleep: 1s\n", "expect verified but no verify step"},
		{"arch: arm64\nkernel: testguest\nexpect: ok\nsteps:\n  - sleep: 1s\n", "testguest is an amd64 guest"},
		{base + "storage: {addr: 0x1000, line: x}\nsteps:\n  - sleep: 1s\n", "exactly one of addr, line"},
		{base + "storage: {corrupt: 1}\nsteps:\n  - sleep: 1s\n", "field corrupt not found"},
	} {
		_, err := Parse(strings.NewReader(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant …%s…", c.src, err, c.want)
		}
	}
}

func TestParseFull(t *testing.T) {
	src := `
name: full
board: virt
arch: arm64
memory: 1G
kernel: ${PAGESNAP_TEST_NO_SUCH_VAR}/kernel.elf
workload: gc-churn
instant: github.com/pagesnap/pagesnap/kernel.snapshotInstant
storage: {line: 'snap: storage (0x[0-9a-f]+)'}
regions:
  - {name: dma0, kind: dma, base: 0x48000000, size: 64K}
steps:
  - expect: "ready"
  - snapshot: {command: snap start, timeout: 2m}
  - dma: {addr: 0x48000000, len: 4K, pattern: "de ad be ef", repeat: 3, gap: 10ms}
  - irq_storm: {kind: nmi, count: 100}
  - write: {addr: runtime.mheap_+0x10, bytes: "0102"}
  - corrupt: {page: 0x40100000, offset: 12, xor: 0x80}
  - reset: {}
  - verify: {}
expect: error hash-mismatch
`
	s, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory.MiB() != 1024 || s.Arch != "arm64" || len(s.Steps) != 8 || s.Expect != (Outcome{"error", "hash-mismatch"}) {
		t.Fatalf("%+v", s)
	}
	d := s.Steps[2].DMA
	if d.Addr.Value != 0x48000000 || d.Len != 4096 || !bytes.Equal(d.Pattern, []byte{0xde, 0xad, 0xbe, 0xef}) || d.Repeat != 3 {
		t.Fatalf("dma %+v", d)
	}
	if w := s.Steps[4].Write; w.Addr.Symbol != "runtime.mheap_" || w.Addr.Offset != 0x10 {
		t.Fatalf("write %+v", w)
	}
	if s.Regions[0].Size != 64<<10 || s.Steps[5].Corrupt.XOR != 0x80 || s.Steps[1].Name() != "snapshot" || s.Steps[1].Line() != 14 {
		t.Fatalf("%+v %+v line %d", s.Regions, s.Steps[5].Corrupt, s.Steps[1].Line())
	}
	// The kernel variable is unset: the run is skipped, loudly, not passed.
	res := Execute(context.Background(), s, Options{})
	if res.Skipped == "" || res.Pass || !strings.Contains(res.Skipped, "$PAGESNAP_TEST_NO_SUCH_VAR is not set") {
		t.Fatalf("skip: %+v", res)
	}
}

// TestScripts runs every testguest script in ../scripts and checks it
// meets its expectation; scripts needing the real kernel must skip when it
// is absent and pass or fail honestly when present.
func TestScripts(t *testing.T) {
	files, _ := filepath.Glob("../scripts/*.yaml")
	if len(files) < 4 {
		t.Fatalf("scripts: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kernel != "testguest" {
				if _, skip := s.kernelPath(); skip != "" {
					qemu.Missing(t, "%s", skip)
				}
				if testing.Short() {
					t.Skip("real-kernel script in -short mode")
				}
				// Each real-kernel script takes minutes under TCG: go test
				// runs the idle one and the negative controls (rogue DMA,
				// corrupt page, kill mid-drain) on both arches; make
				// fault-injection (or PAGESNAP_FAULT_INJECTION=all) runs
				// them all.
				if !inGoTest(filepath.Base(f)) && os.Getenv("PAGESNAP_FAULT_INJECTION") != "all" {
					t.Skip("run by make fault-injection (or PAGESNAP_FAULT_INJECTION=all go test)")
				}
			}
			var log bytes.Buffer
			res := Execute(context.Background(), s, Options{Log: &log})
			if !res.Pass {
				t.Fatalf("%s\n%s", res.Why, log.String())
			}
			if s.Expect.Error == "guest-fault" && (res.Fault == nil || res.Fault.RunState != "shutdown") {
				t.Fatalf("fault report: %v", res.Fault)
			}
			if filepath.Base(f) == "testguest-fault.yaml" && (res.Fault.Inst.Text != "ud2" || res.Fault.Inst.Sym != "fault") {
				t.Fatalf("fault report: %v", res.Fault)
			}
		})
	}
}

// TestVerifyPlumbing exercises the snapshot, verify, dma and corrupt steps
// on the test guest. The guest has no snapshot engine, so after the
// snapshot step the test itself stores a correct image of the guest's
// image pages, made from the reference at the instant, in guest RAM (as
// the engine would): the run must verify it although the guest keeps
// writing its counter page and a DMA burst hits captured memory, and must
// report the corrupted page after the corrupt step.
func TestVerifyPlumbing(t *testing.T) {
	const storage = 0x400000
	src := `
name: plumbing
arch: amd64
memory: 16M
kernel: testguest
instant: tick
storage: {addr: 0x400000}
regions:
  - {name: dma-buffer, kind: dma, base: 0x102000, size: 4K}
steps:
  - expect: "pagesnap test guest ready"
  - snapshot: {command: "-"}
  - sleep: 50ms
  - dma: {addr: 0x102100, len: 256, pattern: "5a"}
  - verify: {}
  - corrupt: {page: 0x101000, offset: 0, xor: 1}
  - verify: {}
expect: error hash-mismatch
`
	s, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var refCounter uint32
	var log bytes.Buffer
	opt := Options{Log: &log, AfterStep: func(r *Run, i int) error {
		if i != 1 {
			return nil
		}
		ref, err := os.ReadFile(r.RefPath)
		if err != nil {
			return err
		}
		if len(ref) != 16<<20 || r.RefBase != 0 {
			t.Errorf("reference %d bytes at %#x", len(ref), r.RefBase)
		}
		refCounter = binary.LittleEndian.Uint32(ref[testguest.CounterAddr:])
		img, err := imagetest.Encode(ref, 0, 4096, []snapshot.Range{{Base: testguest.LoadAddr, Size: testguest.ImageEnd - testguest.LoadAddr}}, 7)
		if err != nil {
			return err
		}
		return r.stopped(func() error { return r.writePhys(storage, img) })
	}}
	res := Execute(context.Background(), s, opt)
	if !res.Pass {
		t.Fatalf("%s\n%s", res.Why, log.String())
	}
	// The first verify matched; the second failed on the corrupted page
	// only, with the manifest check naming it too.
	if !res.Verified || len(res.Steps) != 7 || res.Steps[4].Err != nil {
		t.Fatalf("steps %+v", res.Steps)
	}
	rep := res.Report
	var pe *snapshot.PageError
	if rep == nil || !errors.As(rep.ImageErr, &pe) || pe.Addr != testguest.CounterAddr || len(rep.Mismatches) != 1 {
		t.Fatalf("report %v", rep)
	}
	m := rep.Mismatches[0]
	if m.Addr != testguest.CounterAddr || m.Offset != 0 || m.Want != byte(refCounter) || m.Got != byte(refCounter)^1 ||
		m.Owner != (verify.Owner{Kind: verify.KernelData, Where: ".data counter"}) {
		t.Fatalf("mismatch %+v (counter at instant %d)", m, refCounter)
	}
	if !strings.Contains(log.String(), "stopped at tick") {
		t.Fatal(log.String())
	}
	if got := res.Names; len(got) != 2 || got[0] != "mismatch" || got[1] != "hash-mismatch" {
		t.Fatalf("names %v", got)
	}
}

// TestKillThenVerify: with keep_memory the storage is read from the RAM
// file after QEMU is killed; a run whose storage holds no image fails
// with bad-magic, not a hang or a pass.
func TestKillThenVerify(t *testing.T) {
	src := `
arch: amd64
memory: 16M
kernel: testguest
keep_memory: true
instant: tick
storage: {addr: 0x400000}
steps:
  - expect: "pagesnap test guest ready"
  - snapshot: {command: "-"}
  - kill: {}
  - verify: {}
expect: error bad-magic
`
	s, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res := Execute(context.Background(), s, Options{Log: &log})
	if !res.Pass || !errors.Is(res.Err, snapshot.ErrBadMagic) {
		t.Fatalf("%s\n%s", res.Why, log.String())
	}
	// Without keep_memory the same run cannot read the storage.
	s.KeepMemory = false
	s.Expect = Outcome{Result: "error", Error: "killed"}
	if res := Execute(context.Background(), s, Options{}); !res.Pass || !errors.Is(res.Err, ErrKilled) {
		t.Fatalf("%s", res.Why)
	}
	_ = qemu.ErrExited
}

func TestConsoleFaults(t *testing.T) {
	g, err := testguest.Build(0)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "g.elf")
	if err := g.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	tick := g.Symbols["tick"]
	lines := []string{"booting", fmt.Sprintf("exception: vector 13 pc=%#x", g.Symbols["fault"]), fmt.Sprintf("panic: fault PC: %#x", tick+6), "pc=0x10"}
	got := consoleFaults(p, lines, true)
	if len(got) != 3 || !strings.HasSuffix(got[0], "<fault>: 0f0b  ud2") || !strings.HasSuffix(got[1], fmt.Sprintf("%#x <tick+0x6>: c3  ret", tick+6)) ||
		!strings.Contains(got[2], "not in an executable segment") {
		t.Fatalf("%q", got)
	}
}

// TestRunTimeout: a run longer than its timeout is killed and reported as
// a timeout of the run, not as an unexplained exit.
func TestRunTimeout(t *testing.T) {
	s, err := Parse(strings.NewReader(`
arch: amd64
memory: 16M
kernel: testguest
timeout: 1s
steps:
  - expect: {re: "never printed", timeout: 1m}
expect: error timeout
`))
	if err != nil {
		t.Fatal(err)
	}
	res := Execute(context.Background(), s, Options{})
	if !res.Pass || !strings.Contains(res.Err.Error(), "run timeout 1s exceeded") {
		t.Fatalf("%s", res.Why)
	}
}

// inGoTest reports whether go test runs the real-kernel script named name
// (make test): the idle snapshot and the negative controls, each of which
// must fail the way it should (expect: error ...).
func inGoTest(name string) bool {
	if name == "snapshot-idle-amd64.yaml" {
		return true
	}
	for _, c := range []string{"rogue-dma", "corrupt", "kill"} {
		for _, arch := range []string{"amd64", "arm64"} {
			if name == "snapshot-"+c+"-"+arch+".yaml" {
				return true
			}
		}
	}
	return false
}

// TestNegativeControlsPresent: the negative controls go test runs exist
// for both arches and each expects the error it must end with.
func TestNegativeControlsPresent(t *testing.T) {
	want := map[string]Outcome{"rogue-dma": {"error", "mismatch"}, "corrupt": {"error", "hash-mismatch"}, "kill": {"error", "incomplete"}}
	for c, o := range want {
		for _, arch := range []string{"amd64", "arm64"} {
			name := "snapshot-" + c + "-" + arch + ".yaml"
			s, err := ParseFile("../scripts/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if !inGoTest(name) || s.Expect != o || s.Arch != arch {
				t.Errorf("%s: in go test %v, arch %s, expect %v: want run, %s, %v", name, inGoTest(name), s.Arch, s.Expect, arch, o)
			}
		}
	}
}

// TestEveryStepIsAnAction: each Step field (a step kind) is a value with
// the run method, found by Step.action.
func TestEveryStepIsAnAction(t *testing.T) {
	st := reflect.TypeOf(Step{})
	n := 0
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		n++
		if !f.Type.Implements(reflect.TypeOf((*action)(nil)).Elem()) {
			t.Errorf("step field %s (%v) has no run method", f.Name, f.Type)
		}
		var s Step
		v := reflect.ValueOf(&s).Elem().Field(i)
		v.Set(reflect.New(f.Type.Elem()))
		if s.action() == nil || s.Name() != strings.SplitN(f.Tag.Get("yaml"), ",", 2)[0] {
			t.Errorf("step with only %s: action %v, name %q", f.Name, s.action(), s.Name())
		}
	}
	if n != 13 {
		t.Errorf("%d step kinds, want 13", n)
	}
}
