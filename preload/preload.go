// Package preload fills a file system tree from an archive: on GOOS=tamago
// that tree is the in-memory file system behind package os (see the
// toolchain's syscall/fs_tamago.go), which starts with only / and /tmp.
//
// An application with its files in an embed.FS needs no package: os.CopyFS
// does it ("os.CopyFS("/data", content)"). This package adds what an
// embedded file system cannot: a tar archive (Tar), possibly one that the
// host placed in guest memory before boot (Blob: QEMU's
// "-device loader,file=F,addr=A,force-raw=on" with a file written by
// WriteBlob), which is how make std-test gives each test binary its
// package's testdata/.
//
// Size limit: the in-memory file system keeps every file in the Go heap,
// so files, the program's own heap and its stacks share the runtime's
// memory (the board's RAM size, make kernel RAM=); a write that does not
// fit ends the program with the runtime's "out of memory".
package preload

import (
	"archive/tar"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Magic starts a blob: Magic, the archive's length (8 bytes, little
// endian), then the tar archive.
const Magic = "PGSNTAR1"

// HeaderSize is the size of a blob's header (Magic and the length).
const HeaderSize = len(Magic) + 8

// ErrNoBlob is returned by Parse for memory that does not start with Magic.
var ErrNoBlob = errors.New("preload: no blob (magic " + Magic + " missing)")

// WriteBlob writes archive as a blob (header then archive).
func WriteBlob(w io.Writer, archive []byte) error {
	var h [HeaderSize]byte
	copy(h[:], Magic)
	binary.LittleEndian.PutUint64(h[len(Magic):], uint64(len(archive)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(archive)
	return err
}

// Length returns the archive length in a blob's header.
func Length(header []byte) (uint64, error) {
	if len(header) < HeaderSize || string(header[:len(Magic)]) != Magic {
		return 0, ErrNoBlob
	}
	return binary.LittleEndian.Uint64(header[len(Magic):HeaderSize]), nil
}

// Tar extracts a tar archive's directories and regular files under dir,
// creating dir and missing parents, with the archive's permission bits.
// Names that would leave dir, links and special files are errors.
func Tar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("preload: %w", err)
		}
		name := path.Clean(h.Name)
		if !fs.ValidPath(name) {
			return fmt.Errorf("preload: %q: name leaves the target directory", h.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		mode := fs.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(p, mode|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("preload: %s: %w", p, err)
			}
		default:
			return fmt.Errorf("preload: %q: type %q is not a directory or a regular file", h.Name, h.Typeflag)
		}
	}
}

// Dir is a directory tree for TarDirs: the directories and regular files
// under Root, named Prefix/relative-path (slash separated) in the archive;
// Skip, when not nil, leaves out the entries (and for directories their
// contents) for which it returns true.
type Dir struct {
	Root, Prefix string
	Skip         func(rel string, d fs.DirEntry) bool
}

// TarDirs writes one tar archive of the trees to w.
func TarDirs(w io.Writer, dirs ...Dir) error {
	tw := tar.NewWriter(w)
	for _, dir := range dirs {
		if err := addDir(tw, dir); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addDir(tw *tar.Writer, dir Dir) error {
	root, prefix, skip := dir.Root, dir.Prefix, dir.Skip
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && skip != nil && skip(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = strings.TrimPrefix(path.Join(prefix, rel), "/")
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
}
