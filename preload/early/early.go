// Package early extracts a blob (package preload's format: a header, then
// a tar archive) that QEMU's loader device placed in guest memory into the
// in-memory file system while packages initialize, and then changes the
// working directory: before any package whose import path sorts after
// this one's and which does not depend on it ("time", "sort", ...) runs
// its init functions (the Go 1.21 initialization order: the first
// package by import path whose imports are initialized goes next). It
// imports only syscall and unsafe for that reason, and reads the tar
// format itself: USTAR headers (name and prefix) and the path record of
// PAX extended headers, directories and regular files.
//
// Blob (hexadecimal physical address) and Dir are set by the linker:
//
//	-ldflags "-X github.com/pagesnap/pagesnap/preload/early.Blob=0x21000000 -X github.com/pagesnap/pagesnap/preload/early.Dir=/src/pkg"
//
// make std-test links it into every test binary (qemu/stdtest). A bad
// blob panics at init.
package early

import (
	"syscall"
	"unsafe"
)

// Blob and Dir: see the package comment. Empty: nothing is done.
var Blob, Dir string

// Magic and headerSize repeat package preload's Magic and HeaderSize
// (which imports os, so this package cannot import it); preload's tests
// check that they agree.
const (
	Magic      = "PGSNTAR1"
	headerSize = len(Magic) + 8
)

func init() {
	if Blob == "" {
		return
	}
	addr, ok := parseUint(Blob, 16)
	if !ok {
		panic("preload/early: bad Blob address " + Blob)
	}
	h := unsafe.Slice((*byte)(physPtr(addr)), headerSize)
	if string(h[:len(Magic)]) != Magic {
		panic("preload/early: no blob at " + Blob)
	}
	n := uint64(0)
	for i := headerSize - 1; i >= len(Magic); i-- {
		n = n<<8 | uint64(h[i])
	}
	if err := Extract(unsafe.Slice((*byte)(physPtr(addr+uint64(headerSize))), n), "/"); err != "" {
		panic("preload/early: " + err)
	}
	if Dir != "" {
		if err := syscall.Chdir(Dir); err != nil {
			panic("preload/early: chdir " + Dir + ": " + err.Error())
		}
	}
}

// physPtr returns a pointer to physical address a (identity mapped). The
// address is not Go memory: converting it through a pointer-sized copy
// keeps it out of the uintptr-arithmetic pattern vet checks.
func physPtr(a uint64) unsafe.Pointer {
	p := uintptr(a)
	return *(*unsafe.Pointer)(unsafe.Pointer(&p))
}

// Extract writes the directories and regular files of tar archive b under
// dir; it returns an error message ("" on success).
func Extract(b []byte, dir string) string {
	paxPath := ""
	for len(b) >= 512 {
		hdr := b[:512]
		if allZero(hdr) {
			return ""
		}
		size, ok := parseUint(cstr(hdr[124:136]), 8)
		if !ok {
			return "bad size field"
		}
		mode, ok := parseUint(cstr(hdr[100:108]), 8)
		if !ok {
			return "bad mode field"
		}
		name := cstr(hdr[0:100])
		if string(hdr[257:262]) == "ustar" {
			if p := cstr(hdr[345:500]); p != "" {
				name = p + "/" + name
			}
		}
		blocks := (size + 511) / 512 * 512
		if uint64(len(b)-512) < blocks {
			return "truncated archive"
		}
		data := b[512 : 512+size]
		b = b[512+blocks:]
		if paxPath != "" {
			name, paxPath = paxPath, ""
		}
		switch typ := hdr[156]; typ {
		case 'x':
			paxPath = paxRecord(data, "path")
			continue
		case 'g':
			continue
		case '5':
			if err := mkdirAll(dir+"/"+name, uint32(mode&0o7777)|0o700); err != "" {
				return err
			}
		case '0', 0:
			if err := writeFile(dir+"/"+name, data, uint32(mode&0o7777)); err != "" {
				return err
			}
		default:
			return name + ": not a directory or a regular file"
		}
	}
	return "archive without its end blocks"
}

func mkdirAll(p string, mode uint32) string {
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			err := syscall.Mkdir(p[:i], 0o755)
			if err != nil && err != syscall.EEXIST {
				return "mkdir " + p[:i] + ": " + err.Error()
			}
		}
	}
	if err := syscall.Chmod(p, mode); err != nil {
		return "chmod " + p + ": " + err.Error()
	}
	return ""
}

func writeFile(p string, data []byte, mode uint32) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			if err := mkdirAll(p[:i], 0o755); err != "" {
				return err
			}
			break
		}
	}
	fd, err := syscall.Open(p, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, mode)
	if err != nil {
		return "create " + p + ": " + err.Error()
	}
	defer syscall.Close(fd)
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err != nil {
			return "write " + p + ": " + err.Error()
		}
		data = data[n:]
	}
	return ""
}

// paxRecord returns the value of key in PAX extended-header records
// ("LEN key=value\n" each).
func paxRecord(b []byte, key string) string {
	for len(b) > 0 {
		sp := 0
		for sp < len(b) && b[sp] != ' ' {
			sp++
		}
		n, ok := parseUint(string(b[:sp]), 10)
		if !ok || n == 0 || n > uint64(len(b)) || sp >= int(n) {
			return ""
		}
		rec := string(b[sp+1 : n-1])
		if len(rec) > len(key) && rec[:len(key)] == key && rec[len(key)] == '=' {
			return rec[len(key)+1:]
		}
		b = b[n:]
	}
	return ""
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return trim(string(b[:i]))
		}
	}
	return trim(string(b))
}

func trim(s string) string {
	for len(s) > 0 && (s[0] == ' ') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// parseUint parses s in base 8, 10 or 16 (an optional 0x prefix); "" is 0.
func parseUint(s string, base uint64) (uint64, bool) {
	if base == 16 && len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	n := uint64(0)
	for _, c := range []byte(s) {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}
