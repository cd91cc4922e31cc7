package script

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Script is one parsed fault-injection script.
type Script struct {
	// Name describes the scenario (defaults to the file name).
	Name string `yaml:"name"`
	// Board is the machine type (microvm, virt, q35, …).
	Board string `yaml:"board"`
	// Arch is amd64 or arm64.
	Arch string `yaml:"arch"`
	// Memory is the RAM size: "128M", "1G" or a number of MiB (default 128M).
	Memory MemSize `yaml:"memory"`
	// Kernel is the kernel ELF: a path (environment variables expanded,
	// relative to the script's folder) or "testguest" for the harness's
	// built-in tiny x86 guest.
	Kernel string `yaml:"kernel"`
	// Append is the kernel command line.
	Append string `yaml:"append"`
	// Workload names the guest workload; it is passed to the kernel as
	// "workload=NAME" on the command line.
	Workload string `yaml:"workload"`
	// Devices are extra -device arguments.
	Devices []string `yaml:"devices"`
	// QEMUArgs are extra QEMU arguments, appended verbatim
	// (e.g. ["-global", "virtio-mmio.force-legacy=false"]).
	QEMUArgs []string `yaml:"qemu_args"`
	// Accel is tcg (default) or kvm.
	Accel string `yaml:"accel"`
	// ICount runs under -icount so guest time is deterministic.
	ICount bool `yaml:"icount"`
	// KeepMemory backs RAM with a file in /dev/shm so the snapshot storage
	// can be read after QEMU is killed (removed after the run).
	KeepMemory bool `yaml:"keep_memory"`
	// PauseOnFault stops the VM on a triple fault or reset so the fault
	// can be reported (registers, decoded instruction).
	PauseOnFault bool `yaml:"pause_on_fault"`
	// Instant is the snapshot-instant symbol the snapshot step stops at.
	Instant string `yaml:"instant"`
	// Storage locates the snapshot storage in guest physical memory.
	Storage *StorageSpec `yaml:"storage"`
	// Regions name heap, stack and DMA ranges for mismatch reports.
	Regions []RegionSpec `yaml:"regions"`
	// Timeout bounds the whole run (default 5m).
	Timeout Duration `yaml:"timeout"`
	// Steps run in order.
	Steps []Step `yaml:"steps"`
	// Expect is the expected outcome.
	Expect Outcome `yaml:"expect"`

	// Path is the file the script was read from.
	Path string `yaml:"-"`
}

// StorageSpec locates the snapshot storage: a fixed address, or a console
// line whose first submatch is the address (hex with 0x, or decimal).
type StorageSpec struct {
	Addr *Addr  `yaml:"addr"`
	Line string `yaml:"line"`
}

// RegionSpec is a named range for owner reports.
type RegionSpec struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // heap, stack, dma, storage, other
	Base Addr   `yaml:"base"`
	Size Size   `yaml:"size"`
}

// Step is one action; exactly one field is set.
type Step struct {
	Expect   *ExpectStep   `yaml:"expect"`
	Send     *SendStep     `yaml:"send"`
	Snapshot *SnapshotStep `yaml:"snapshot"`
	Write    *WriteStep    `yaml:"write"`
	DMA      *DMAStep      `yaml:"dma"`
	IRQStorm *IRQStep      `yaml:"irq_storm"`
	Pause    *PauseStep    `yaml:"pause"`
	Sleep    *SleepStep    `yaml:"sleep"`
	Kill     *KillStep     `yaml:"kill"`
	Reset    *ResetStep    `yaml:"reset"`
	Corrupt  *CorruptStep  `yaml:"corrupt"`
	Verify   *VerifyStep   `yaml:"verify"`
	Exit     *ExitStep     `yaml:"exit"`

	line int
}

// ExpectStep waits for a console line matching a regular expression.
type ExpectStep struct {
	Re      *regexp.Regexp
	Timeout Duration
}

// SnapshotStep stops the guest at the instant symbol after typing Command,
// saves the reference image of all RAM, and resumes. If a console line
// matching Fail appears first (e.g. the kernel refusing the command), the
// step fails at once with that line instead of waiting for Timeout.
type SnapshotStep struct {
	Command string   `yaml:"command"`
	Timeout Duration `yaml:"timeout"`
	Fail    string   `yaml:"fail"`
}

// WriteStep writes bytes into guest memory (physical address, or a
// symbol) through the gdbstub while the vCPUs are stopped.
type WriteStep struct {
	Addr  Addr   `yaml:"addr"`
	Bytes Hex    `yaml:"bytes"`
	U32   *int64 `yaml:"u32"`
	U64   *int64 `yaml:"u64"`
}

// DMAStep writes Len bytes of Pattern at Addr the way a bus master does:
// physical addresses, bypassing the vCPU's MMU and page protection.
// Repeat repeats the burst with Gap between bursts. Mode "concurrent"
// (the default with keep_memory) writes the shared RAM file while the
// vCPUs run, as a device would; "stopped" (the default otherwise) writes
// through the gdbstub with the vCPUs stopped.
type DMAStep struct {
	Addr    Addr     `yaml:"addr"`
	Len     Size     `yaml:"len"`
	Pattern Hex      `yaml:"pattern"`
	Repeat  int      `yaml:"repeat"`
	Gap     Duration `yaml:"gap"`
	Mode    string   `yaml:"mode"`
}

// IRQStep raises Count interrupts: "nmi" (QMP inject-nmi) or "serial"
// (bytes sent to the console, one UART receive interrupt each when the
// guest enables them).
type IRQStep struct {
	Kind  string `yaml:"kind"`
	Count int    `yaml:"count"`
}

// CorruptStep flips bits (XOR) of the snapshot storage's copy of the page
// containing Page, at Offset in the page.
type CorruptStep struct {
	Page   Addr `yaml:"page"`
	Offset int  `yaml:"offset"`
	XOR    int  `yaml:"xor"`
}

// VerifyStep reads the storage, checks its manifest and compares it with
// the reference image from the snapshot step.
type VerifyStep struct{}

// ExitStep waits for QEMU to exit; Code is the isa-debug-exit value
// expected (nil: any exit).
type ExitStep struct {
	Code    *int     `yaml:"code"`
	Timeout Duration `yaml:"timeout"`
}

// Outcome is the expected result: Result "verified" (every step passed
// and a verify step matched), "ok" (every step passed) or "error" with
// Error naming the failure (see ErrorNames).
type Outcome struct {
	Result string
	Error  string
}

// ErrorNames lists the named errors an outcome can expect.
var ErrorNames = []string{"mismatch", "hash-mismatch", "root-mismatch", "incomplete", "bad-magic", "not-captured", "timeout", "exited", "killed", "guest-fault", "refused"}

// UnmarshalYAML accepts "verified", "ok" or "error NAME".
func (o *Outcome) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	f := strings.Fields(s)
	switch {
	case len(f) == 1 && (f[0] == "verified" || f[0] == "ok"):
		o.Result = f[0]
	case len(f) == 2 && f[0] == "error":
		for _, e := range ErrorNames {
			if f[1] == e {
				o.Result, o.Error = "error", e
				return nil
			}
		}
		return fmt.Errorf("line %d: unknown error %q (known: %s)", n.Line, f[1], strings.Join(ErrorNames, ", "))
	default:
		return fmt.Errorf("line %d: expect %q: want verified, ok or \"error NAME\"", n.Line, s)
	}
	return nil
}

// String returns the outcome as written in scripts.
func (o Outcome) String() string {
	if o.Result == "error" {
		return "error " + o.Error
	}
	return o.Result
}

// UnmarshalYAML accepts a regular expression, or a map {re, timeout}.
func (e *ExpectStep) UnmarshalYAML(n *yaml.Node) error {
	var re string
	if n.Kind == yaml.ScalarNode {
		re = n.Value
	} else {
		var m struct {
			Re      string   `yaml:"re"`
			Timeout Duration `yaml:"timeout"`
		}
		if err := decodeStrict(n, &m); err != nil {
			return err
		}
		re, e.Timeout = m.Re, m.Timeout
	}
	r, err := regexp.Compile(re)
	if err != nil {
		return fmt.Errorf("line %d: expect: %w", n.Line, err)
	}
	e.Re = r
	return nil
}

// decodeStrict decodes n into v, rejecting unknown mapping keys at any
// depth (yaml.v3's KnownFields does not reach into custom unmarshalers).
// Errors keep the script's line numbers.
func decodeStrict(n *yaml.Node, v any) error {
	if err := checkKnown(n, reflect.TypeOf(v)); err != nil {
		return err
	}
	return n.Decode(v)
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func checkKnown(n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			return nil
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			f, ok := fieldByTag(t, k)
			if !ok {
				name := strings.ToLower(t.Name())
				if name == "plain" {
					name = "step"
				}
				return fmt.Errorf("line %d: field %s not found in %s", n.Content[i].Line, k, name)
			}
			if err := checkKnown(n.Content[i+1], f.Type); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			if err := checkKnown(c, t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == key && name != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// UnmarshalYAML records the step's line and checks exactly one action.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	type plain Step
	var p plain
	if err := decodeStrict(n, &p); err != nil {
		return fmt.Errorf("step: %w", err)
	}
	*s = Step(p)
	s.line = n.Line
	if k := s.count(); k != 1 {
		return fmt.Errorf("step at line %d: want exactly one action, got %d", n.Line, k)
	}
	return nil
}

// actions returns the step's actions (its non-nil fields) and their names
// (yaml keys). Every field of Step but line is an action.
func (s *Step) actions() (acts []action, names []string) {
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		acts = append(acts, f.Interface().(action))
		names = append(names, strings.SplitN(v.Type().Field(i).Tag.Get("yaml"), ",", 2)[0])
	}
	return acts, names
}

func (s *Step) count() int {
	acts, _ := s.actions()
	return len(acts)
}

// action returns the step's one action.
func (s *Step) action() action {
	if acts, _ := s.actions(); len(acts) == 1 {
		return acts[0]
	}
	return nil
}

// Name returns the step's action name.
func (s *Step) Name() string {
	if _, names := s.actions(); len(names) == 1 {
		return names[0]
	}
	return "?"
}

// SendStep types a line on the guest console.
type SendStep string

// PauseStep stops every vCPU for a while (gdbstub), then resumes.
type PauseStep Duration

// UnmarshalYAML reads a duration.
func (p *PauseStep) UnmarshalYAML(n *yaml.Node) error { return (*Duration)(p).UnmarshalYAML(n) }

// SleepStep waits on the host while the guest runs.
type SleepStep Duration

// UnmarshalYAML reads a duration.
func (p *SleepStep) UnmarshalYAML(n *yaml.Node) error { return (*Duration)(p).UnmarshalYAML(n) }

// KillStep kills QEMU.
type KillStep struct{}

// ResetStep resets the machine (QMP system_reset).
type ResetStep struct{}

// Line is the script line of the step.
func (s *Step) Line() int { return s.line }

// Duration is a time.Duration written as "100ms", "2s", "1m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: bad duration %q (want e.g. 500ms, 10s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Or returns d, or def if d is zero.
func (d Duration) Or(def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// Size is a byte count written as a number or with a K, M or G suffix.
// Memory sizes without a suffix are MiB (see Script.Memory).
type Size uint64

// UnmarshalYAML parses "4096", "0x1000", "64K", "128M", "1G".
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = Size(v)
	return nil
}

func parseSize(t string) (uint64, error) {
	mul := uint64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mul, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mul, t = 1<<20, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "G"):
		mul, t = 1<<30, strings.TrimSuffix(t, "G")
	}
	v, err := strconv.ParseUint(t, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q (want e.g. 4096, 0x1000, 64K, 128M)", t)
	}
	return v * mul, nil
}

// MemSize is a RAM size in bytes, written "512M", "1G" or as a number of
// MiB; it must be a positive multiple of 1 MiB.
type MemSize uint64

// UnmarshalYAML parses a RAM size.
func (m *MemSize) UnmarshalYAML(n *yaml.Node) error {
	t := n.Value
	if _, err := strconv.ParseUint(t, 0, 64); err == nil {
		t += "M"
	}
	v, err := parseSize(t)
	if err != nil || v == 0 || v%(1<<20) != 0 {
		return fmt.Errorf("line %d: bad memory size %q (want e.g. 128M, 1G or a number of MiB)", n.Line, n.Value)
	}
	*m = MemSize(v)
	return nil
}

// MiB returns the size in MiB.
func (m MemSize) MiB() int { return int(m >> 20) }

// Addr is a guest physical address: a number, or a kernel symbol name with
// an optional "+offset" (resolved from the kernel ELF at run time).
type Addr struct {
	Value  uint64
	Symbol string
	Offset uint64
}

// UnmarshalYAML parses "0x102000", "1056768", "counter", "sym+0x10".
func (a *Addr) UnmarshalYAML(n *yaml.Node) error {
	t := n.Value
	if v, err := strconv.ParseUint(t, 0, 64); err == nil {
		*a = Addr{Value: v}
		return nil
	}
	if t == "" || strings.ContainsAny(t, " \t") {
		return fmt.Errorf("line %d: bad address %q", n.Line, t)
	}
	sym, off, ok := strings.Cut(t, "+")
	a.Symbol = sym
	if ok {
		v, err := strconv.ParseUint(off, 0, 64)
		if err != nil {
			return fmt.Errorf("line %d: bad offset in %q", n.Line, t)
		}
		a.Offset = v
	}
	return nil
}

// String returns the address as a number or symbol+offset.
func (a Addr) String() string {
	if a.Symbol == "" {
		return fmt.Sprintf("%#x", a.Value)
	}
	if a.Offset != 0 {
		return fmt.Sprintf("%s+%#x", a.Symbol, a.Offset)
	}
	return a.Symbol
}

// Hex is a byte string written in hex ("2a000000", "de ad be ef").
type Hex []byte

// UnmarshalYAML decodes hex digits, ignoring spaces.
func (h *Hex) UnmarshalYAML(n *yaml.Node) error {
	b, err := hex.DecodeString(strings.ReplaceAll(n.Value, " ", ""))
	if err != nil {
		return fmt.Errorf("line %d: bad hex bytes %q: %v", n.Line, n.Value, err)
	}
	*h = b
	return nil
}

// Parse reads a script. Unknown fields, steps with zero or several actions
// and missing required fields are errors that name the line.
func Parse(r io.Reader) (*Script, error) {
	d := yaml.NewDecoder(r)
	d.KnownFields(true)
	var s Script
	if err := d.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("script: empty")
		}
		return nil, fmt.Errorf("script: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseFile reads the script at path.
func ParseFile(path string) (*Script, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Path = path
	if s.Name == "" {
		s.Name = path
	}
	return s, nil
}

func (s *Script) check() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf("script: "+f, a...)) }
	switch s.Arch {
	case "amd64", "arm64":
	case "":
		bad("arch is required (amd64 or arm64)")
	default:
		bad("arch %q: want amd64 or arm64", s.Arch)
	}
	if s.Kernel == "" {
		bad("kernel is required (a path, $VARIABLE or testguest)")
	}
	if s.Kernel == "testguest" && s.Arch != "amd64" {
		bad("the built-in testguest is an amd64 guest")
	}
	if s.Expect.Result == "" {
		bad("expect is required (verified, ok or \"error NAME\")")
	}
	if len(s.Steps) == 0 {
		bad("no steps")
	}
	hasSnap, hasVerify := false, false
	for i := range s.Steps {
		st := &s.Steps[i]
		switch {
		case st.Snapshot != nil:
			hasSnap = true
			if _, err := regexp.Compile(st.Snapshot.Fail); err != nil {
				bad("line %d: snapshot fail: %v", st.line, err)
			}
			if s.Instant == "" {
				bad("line %d: snapshot step needs the instant symbol (instant:)", st.line)
			}
		case st.Verify != nil:
			hasVerify = true
			if !hasSnap {
				bad("line %d: verify before any snapshot step (no reference image)", st.line)
			}
			if s.Storage == nil {
				bad("line %d: verify needs storage: {addr: …} or {line: …}", st.line)
			}
		case st.Corrupt != nil:
			if s.Storage == nil {
				bad("line %d: corrupt needs storage:", st.line)
			}
			if st.Corrupt.XOR&0xff == 0 {
				bad("line %d: corrupt xor must change the byte (1..255)", st.line)
			}
		case st.Write != nil:
			n := 0
			if len(st.Write.Bytes) > 0 {
				n++
			}
			if st.Write.U32 != nil {
				n++
			}
			if st.Write.U64 != nil {
				n++
			}
			if n != 1 {
				bad("line %d: write needs exactly one of bytes, u32, u64", st.line)
			}
		case st.DMA != nil:
			if st.DMA.Len == 0 || len(st.DMA.Pattern) == 0 {
				bad("line %d: dma needs len and pattern", st.line)
			}
			switch st.DMA.Mode {
			case "", "stopped":
			case "concurrent":
				if !s.KeepMemory {
					bad("line %d: dma mode concurrent needs keep_memory: true (the host writes the shared RAM file)", st.line)
				}
			default:
				bad("line %d: dma mode %q: want concurrent or stopped", st.line, st.DMA.Mode)
			}
		case st.IRQStorm != nil:
			if st.IRQStorm.Kind != "nmi" && st.IRQStorm.Kind != "serial" {
				bad("line %d: irq_storm kind %q: want nmi or serial", st.line, st.IRQStorm.Kind)
			}
			if st.IRQStorm.Count <= 0 {
				bad("line %d: irq_storm count must be positive", st.line)
			}
		}
	}
	if s.Expect.Result == "verified" && !hasVerify {
		bad("expect verified but no verify step")
	}
	if s.Storage != nil && (s.Storage.Addr == nil) == (s.Storage.Line == "") {
		bad("storage needs exactly one of addr, line")
	}
	if s.Storage != nil && s.Storage.Line != "" {
		if re, err := regexp.Compile(s.Storage.Line); err != nil || re.NumSubexp() < 1 {
			bad("storage line %q: want a regular expression with one group for the address", s.Storage.Line)
		}
	}
	for _, r := range s.Regions {
		if _, ok := regionKinds[r.Kind]; !ok {
			bad("region %q: kind %q: want heap, stack, dma, storage or other", r.Name, r.Kind)
		}
	}
	return errors.Join(errs...)
}
