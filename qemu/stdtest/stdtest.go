// Package stdtest runs the Go distribution's own tests of standard
// packages on GOOS=tamago (make std-test): for each package it builds the
// test binary with go test -c and the project's toolchain, with the board
// (and on amd64 pagesnap's fault handler and tick) linked in through a
// generated external test file added by go build -overlay; it packs the
// package's directory (its testdata/ and fuzz seed corpora included) into
// a blob that QEMU's loader device places after the runtime's memory and
// DMA window, where package preload/early (linked in, its address set
// with -ldflags -X) extracts it into the in-memory file system and enters
// the package's directory while packages initialize; then it
// boots the binary under QEMU (TCG) with -test.short and reads its exit
// status.
package stdtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/preload"
	"github.com/pagesnap/pagesnap/qemu"
)

// Package is one package to test: a standard one, or one of the module
// (the generated file goes beside its sources through the overlay).
type Package struct {
	Path string // import path, e.g. "strings"
	// RAM is the runtime's memory for its test binary (default
	// DefaultRAM): regexp's tests keep ~210 MiB live.
	RAM string
	// Timeout bounds the boot (default DefaultTimeout).
	Timeout time.Duration
	// Run, when set, is passed as -test.run.
	Run string
	// Extra are more GOROOT directories (relative, whole trees) its tests
	// read.
	Extra []string
	// Host are host files or directories its tests read as the system's
	// (os reads /etc/group and lists /usr/bin as on any Unix-like
	// system): each is packed at the same absolute path, a directory's
	// regular files of at most HostMaxFile bytes only (the test
	// environment, like lib/time for time; the port ships none of them).
	Host []string
}

// HostMaxFile bounds the files packed from a Host directory: /usr/bin's
// small files (scripts) make a directory of some hundred entries, its
// binaries would make the blob hundreds of MiB.
const HostMaxFile = 16 << 10

// Defaults.
const (
	DefaultRAM     = "256M"
	DefaultTimeout = 10 * time.Minute
)

// Packages is make std-test's list: the 20 packages and 20 more.
// RAM and timeouts are per package where the default is not enough.
var Packages = []Package{
	{Path: "sort"}, {Path: "strings"}, {Path: "bytes"}, {Path: "fmt"},
	{Path: "strconv"}, {Path: "sync"}, {Path: "time", Extra: []string{"lib/time"}}, {Path: "crypto/sha256"},
	{Path: "encoding/binary"}, {Path: "container/list"}, {Path: "container/heap"},
	{Path: "container/ring"}, {Path: "math"}, {Path: "unicode/utf8"},
	{Path: "errors"}, {Path: "hash/crc32"}, {Path: "bufio"},
	{Path: "regexp", RAM: "1G"}, {Path: "slices"}, {Path: "maps"},
	{Path: "encoding/json"}, {Path: "math/big"}, {Path: "compress/flate", Extra: []string{"src/testdata"}},
	// 20 more
	{Path: "unicode"}, {Path: "unicode/utf16"}, {Path: "hash/crc64"},
	{Path: "hash/adler32"}, {Path: "hash/fnv"}, {Path: "crypto/sha512"},
	{Path: "crypto/hmac"}, {Path: "encoding/hex"}, {Path: "encoding/base64"},
	{Path: "encoding/csv"}, {Path: "compress/gzip"}, {Path: "archive/tar"},
	{Path: "archive/zip"}, {Path: "text/template"}, {Path: "math/bits"},
	{Path: "io"}, {Path: "path"}, {Path: "path/filepath", Extra: []string{"src/unicode"}}, {Path: "os", Extra: []string{"src/os/exec"}, Host: []string{"/etc/group", "/etc/hosts", "/etc/passwd", "/usr/bin"}},
	{Path: "io/fs"}, {Path: "testing/fstest"},
}

// Quick is the subset make test runs (TestQuick): container/list (its
// Examples capture standard output through a file in /tmp), the module's
// own package preload, whose tamago tests check the in-memory file
// system's operations and errors, testing/fstest over it, concurrent
// goroutines, net.SocketFunc with a loopback stack and the recoverable nil
// dereference, and compress/bzip2, whose tests read testdata/.
var Quick = []Package{{Path: "container/list"}, {Path: "github.com/pagesnap/pagesnap/preload"}, {Path: "compress/bzip2"}}

// Options configure a run.
type Options struct {
	Arch string // amd64 or arm64
	// Go is the GOOS=tamago toolchain's go binary.
	Go string
	// Module is the pagesnap module's root (where go test -c runs).
	Module string
	// Dir holds the test binaries and blobs (a temporary directory if
	// empty).
	Dir string
	// NoKernel links only the board (no kernel.Setup, no tick): for a
	// package whose tests set the machine up themselves (pagesnap.Open).
	// Without the kernel, amd64 has no nil-dereference panics (the
	// board's exception handler stops the machine) and no preemption.
	NoKernel bool
	// Overlay, when set, is a go build -overlay file whose replacements
	// are added to the build's (e.g. a toolchain source file being
	// changed, before the toolchain is rebuilt).
	Overlay string
}

// Result is one package's outcome.
type Result struct {
	Package Package
	Pass    bool
	Elapsed time.Duration
	Why     string // for a failure: the build error, exit status or timeout
	Console string
}

// Line is the result's report line: "ok|FAIL pkg (time)[: why]".
func (r Result) Line() string {
	s := "ok  "
	if !r.Pass {
		s = "FAIL"
	}
	s += fmt.Sprintf(" %-16s (%.1fs)", r.Package.Path, r.Elapsed.Seconds())
	if !r.Pass && r.Why != "" {
		s += ": " + r.Why
	}
	return s
}

// boards gives each arch's board package and how it ends the machine.
var boards = map[string]struct {
	board, layout string
}{
	"amd64": {"github.com/pagesnap/pagesnap/board/qemu/microvm", "qemu-microvm"},
	"arm64": {"github.com/pagesnap/pagesnap/board/qemu/virt", "qemu-virt"},
}

var mainTmpl = template.Must(template.New("").Parse(`package {{.Name}}_test

// Generated by qemu/stdtest: links the board, loads the package's files
// into the in-memory file system, sets the test flags.

import (
	"os"

	_ "github.com/pagesnap/pagesnap/preload/early"
	{{if .NoKernel}}{{if eq .Arch "amd64"}}_ "github.com/pagesnap/pagesnap/board/qemu/microvm"{{else}}_ "github.com/pagesnap/pagesnap/board/qemu/virt"{{end}}
	{{else if eq .Arch "amd64"}}"runtime/goos"

	"github.com/pagesnap/pagesnap/board/qemu/microvm"
	"github.com/pagesnap/pagesnap/kernel"
	{{else}}"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/board/qemu/virt"
	{{end}}
)

// preload/early has extracted the blob and entered the package's
// directory before the package under test initialized.
func init() {
	{{if not .NoKernel}}{{if eq .Arch "amd64"}}if _, err := kernel.Setup(kernel.Range{Base: microvm.DMAStart, Size: microvm.DMASize}); err != nil {
		panic(err)
	}
	kernel.LAPIC = microvm.LAPIC
	goos.Idle = kernel.TickIdle(goos.Idle)
	{{else}}kernel.SetBoard(virt.Board{})
	{{end}}if err := kernel.StartTick(0); err != nil {
		panic(err)
	}
	{{end}}	os.Args = []string{ {{range .Args}}{{printf "%q" .}}, {{end}} }
}
`))

// hostSkip leaves out a Host directory's subdirectories and its files
// larger than HostMaxFile.
func hostSkip(rel string, d fs.DirEntry) bool {
	if d.IsDir() {
		return true
	}
	info, err := d.Info()
	return err != nil || info.Size() > HostMaxFile
}

// Run tests one package: build, pack, boot.
func Run(ctx context.Context, o Options, p Package) Result {
	start := time.Now()
	r := Result{Package: p}
	fail := func(format string, a ...any) Result {
		r.Why = fmt.Sprintf(format, a...)
		r.Elapsed = time.Since(start)
		return r
	}
	if p.RAM == "" {
		p.RAM = DefaultRAM
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	bd, ok := boards[o.Arch]
	if !ok {
		return fail("unknown arch %q", o.Arch)
	}
	b, err := layout.Lookup(bd.layout)
	if err != nil {
		return fail("%v", err)
	}
	size, err := layout.ParseSize(p.RAM)
	if err != nil {
		return fail("%v", err)
	}
	plan, err := b.Plan(size)
	if err != nil {
		return fail("%v", err)
	}
	dir := filepath.Join(o.Dir, o.Arch, strings.ReplaceAll(p.Path, "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("%v", err)
	}
	env := append(os.Environ(), "GOOS=tamago", "GOARCH="+o.Arch, "GOOSPKG=github.com/usbarmory/tamago", "GOFLAGS=", "GOTOOLCHAIN=local")
	out, err := goCmd(ctx, o, env, "list", "-f", "{{.Name}} {{.Dir}} {{context.GOROOT}}", p.Path)
	if err != nil {
		return fail("go list: %v", err)
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		return fail("go list: %q", out)
	}
	name, pkgDir, goroot := f[0], f[1], f[2]

	// The blob: the package's directory (files, testdata/, fuzz corpora;
	// not its subpackages) after the DMA window, 2 MiB aligned.
	// Paths are the host's: the binary's GOROOT (runtime.GOROOT, from
	// which time's tests load lib/time/zoneinfo.zip) and the package's
	// directory exist in the guest as they do here.
	var tarBuf bytes.Buffer
	skip := func(rel string, d fs.DirEntry) bool {
		top := strings.SplitN(rel, "/", 2)[0]
		return d.IsDir() && !strings.Contains(rel, "/") && top != "testdata" && top != "_testdata"
	}
	dirs := []preload.Dir{{Root: pkgDir, Prefix: strings.TrimPrefix(filepath.ToSlash(pkgDir), "/"), Skip: skip}}
	for _, e := range p.Extra {
		d := filepath.Join(goroot, e)
		dirs = append(dirs, preload.Dir{Root: d, Prefix: strings.TrimPrefix(filepath.ToSlash(d), "/")})
	}
	for _, h := range p.Host {
		dirs = append(dirs, preload.Dir{Root: h, Prefix: strings.TrimPrefix(h, "/"), Skip: hostSkip})
	}
	if err := preload.TarDirs(&tarBuf, dirs...); err != nil {
		return fail("packing %s: %v", pkgDir, err)
	}
	blobFile := filepath.Join(dir, "blob")
	var blob bytes.Buffer
	if err := preload.WriteBlob(&blob, tarBuf.Bytes()); err != nil {
		return fail("%v", err)
	}
	if err := os.WriteFile(blobFile, blob.Bytes(), 0o644); err != nil {
		return fail("%v", err)
	}
	blobAddr := (plan.DMA.End() + layout.SizeUnit - 1) &^ (layout.SizeUnit - 1)
	guestMiB := max(plan.GuestMiB, (blobAddr+uint64(blob.Len())-b.RAMBase)/layout.MiB+2)

	// The generated test file and the overlay (with the board's RAM size).
	args := []string{name + ".test", "-test.short", "-test.v=false", "-test.timeout=" + (p.Timeout - 30*time.Second).String()}
	if p.Run != "" {
		args = append(args, "-test.run="+p.Run)
	}
	var src bytes.Buffer
	if err := mainTmpl.Execute(&src, map[string]any{"Name": name, "Arch": o.Arch, "NoKernel": o.NoKernel, "Args": args}); err != nil {
		return fail("%v", err)
	}
	genFile := filepath.Join(dir, "zz_pagesnap_stdtest_test.go")
	if err := os.WriteFile(genFile, src.Bytes(), 0o644); err != nil {
		return fail("%v", err)
	}
	memFile, memSrc := layout.MemSizeFile(b, size)
	memPath := filepath.Join(dir, filepath.Base(memFile))
	if err := os.WriteFile(memPath, memSrc, 0o644); err != nil {
		return fail("%v", err)
	}
	ov, err := layout.Overlay(o.Module, memFile, memPath)
	if err != nil {
		return fail("%v", err)
	}
	ov = bytes.Replace(ov, []byte(`"Replace": {`), []byte(fmt.Sprintf(`"Replace": {%q: %q,`, filepath.Join(pkgDir, "zz_pagesnap_stdtest_test.go"), genFile)), 1)
	if o.Overlay != "" {
		extra, err := os.ReadFile(o.Overlay)
		if err != nil {
			return fail("%v", err)
		}
		var x struct{ Replace map[string]string }
		if err := json.Unmarshal(extra, &x); err != nil {
			return fail("%s: %v", o.Overlay, err)
		}
		for from, to := range x.Replace {
			ov = bytes.Replace(ov, []byte(`"Replace": {`), []byte(fmt.Sprintf(`"Replace": {%q: %q,`, from, to)), 1)
		}
	}
	ovFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ovFile, ov, 0o644); err != nil {
		return fail("%v", err)
	}
	bin := filepath.Join(dir, name+".test")
	ldflags := fmt.Sprintf("%s -X github.com/pagesnap/pagesnap/preload/early.Blob=%#x -X github.com/pagesnap/pagesnap/preload/early.Dir=%s", b.LinkerFlags(), blobAddr, pkgDir)
	if _, err := goCmd(ctx, o, env, "test", "-c", "-overlay", ovFile, "-ldflags", ldflags, "-o", bin, p.Path); err != nil {
		return fail("build: %v", err)
	}

	// Boot.
	cfg := qemu.Config{Arch: qemu.Arch(o.Arch), MemoryMiB: int(guestMiB), Kernel: bin,
		Devices: []string{fmt.Sprintf("loader,file=%s,addr=%#x,force-raw=on", blobFile, blobAddr)}}
	if o.Arch == "amd64" {
		cfg.Board, cfg.DebugExit, cfg.MachineOpts = "microvm", true, []string{"x-option-roms=on"}
	} else {
		cfg.Board, cfg.CPU = "virt", "max"
		cfg.ExtraArgs = []string{"-semihosting-config", "enable=on,target=native"}
	}
	bctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	vm, err := qemu.Start(bctx, cfg)
	if err != nil {
		return fail("qemu: %v", err)
	}
	st, err := vm.Wait(p.Timeout)
	r.Console = vm.Console.Output()
	if err != nil {
		return fail("%v", err)
	}
	code := st.Code
	if o.Arch == "amd64" {
		v, ok := st.DebugExit()
		if !ok {
			return fail("QEMU %v", st)
		}
		code = v
	}
	if code != 0 {
		return fail("exit status %d: %s", code, lastLine(r.Console))
	}
	r.Pass = true
	r.Elapsed = time.Since(start)
	return r
}

// lastLine returns the console's last non-empty line that says why.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "--- FAIL") {
			return l
		}
	}
	if len(lines) > 0 {
		return strings.TrimSpace(lines[len(lines)-1])
	}
	return ""
}

func goCmd(ctx context.Context, o Options, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, o.Go, args...)
	cmd.Dir, cmd.Env = o.Module, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		e := strings.TrimSpace(errb.String())
		if len(e) > 2000 {
			e = e[:2000]
		}
		return "", fmt.Errorf("%v: %s", err, e)
	}
	return strings.TrimSpace(out.String()), nil
}
