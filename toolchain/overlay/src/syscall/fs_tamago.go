// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

// GOOS=tamago has an in-memory file system: files and directories held in
// the Go heap (so its size limit is the heap's: the runtime's memory, the
// board's RAM size, less what the program itself uses). It starts with
// the directories / and /tmp (os.TempDir) and nothing else; an
// application preloads files with package os (os.WriteFile, os.CopyFS
// from an embed.FS). Descriptors 0, 1 and 2 are the console: writes to 1
// and 2 go to it, reads from 0 fail with ENOSYS.
//
// One mutex guards the whole tree and the descriptor table: operations
// from concurrent goroutines are serialized. A goroutine waiting for it
// sleeps in the scheduler (sync.Mutex), it never spins; the file system
// is never used from interrupt context (interrupt handlers make no
// system calls), so the holder is always a goroutine that will release
// it. There are no symbolic or hard links, no owners other than 0, and
// permission bits are checked for the owner on open (EACCES).

package syscall

import "sync"

// Provided by package runtime.
func now() (sec int64, nsec int32)

// consoleWrite writes b to the console; provided by package runtime.
func consoleWrite(b []byte)

// inode is a file or a directory.
type inode struct {
	ino     uint64
	mode    uint32 // S_IFREG or S_IFDIR | permission bits
	data    []byte
	entries map[string]*inode // directories only
	parent  *inode            // directories only (the root is its own parent)
	nlink   uint32
	mtime   int64 // nanoseconds
	atime   int64
	ctime   int64
}

func (n *inode) isDir() bool { return n.mode&S_IFMT == S_IFDIR }

// openFile is an open descriptor.
type openFile struct {
	node   *inode
	flags  int
	pos    int64
	names  []string // a directory's entries, read at open
	dirIdx int
	path   string // the absolute path it was opened by (Fchdir)
}

var (
	fsMu    sync.Mutex
	fsRoot  *inode
	fsCwd   = "/"
	fsFiles = map[int]*openFile{}
	fsNext  = 3
	fsIno   uint64
)

func nowNano() int64 {
	s, ns := now()
	return s*1e9 + int64(ns)
}

func newInode(mode uint32) *inode {
	fsIno++
	t := nowNano()
	n := &inode{ino: fsIno, mode: mode, nlink: 1, mtime: t, atime: t, ctime: t}
	if mode&S_IFMT == S_IFDIR {
		n.entries = map[string]*inode{}
		n.nlink = 2
	}
	return n
}

// fsInit creates / and /tmp; called with fsMu held.
func fsInit() {
	if fsRoot != nil {
		return
	}
	fsRoot = newInode(S_IFDIR | 0o755)
	fsRoot.parent = fsRoot
	tmp := newInode(S_IFDIR | 0o1777)
	tmp.parent = fsRoot
	fsRoot.entries["tmp"] = tmp
	fsRoot.nlink++
}

// splitPath returns the absolute, cleaned components of path.
func splitPath(path string) ([]string, error) {
	if path == "" {
		return nil, ENOENT
	}
	for i := 0; i < len(path); i++ {
		if path[i] == 0 {
			return nil, EINVAL
		}
	}
	if path[0] != '/' {
		path = fsCwd + "/" + path
	}
	var parts []string
	for i := 0; i < len(path); {
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		switch c := path[i:j]; c {
		case "", ".":
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, c)
		}
		i = j + 1
	}
	return parts, nil
}

// walk returns the inode of the directory holding path's last component
// and that component ("" for the root). A trailing slash requires a
// directory: dirOnly reports it.
func walk(path string) (dir *inode, name string, dirOnly bool, err error) {
	parts, err := splitPath(path)
	if err != nil {
		return nil, "", false, err
	}
	fsInit()
	dirOnly = len(path) > 0 && path[len(path)-1] == '/'
	dir = fsRoot
	if len(parts) == 0 {
		return fsRoot, "", true, nil
	}
	for _, p := range parts[:len(parts)-1] {
		next, ok := dir.entries[p]
		if !ok {
			return nil, "", false, ENOENT
		}
		if !next.isDir() {
			return nil, "", false, ENOTDIR
		}
		dir = next
	}
	return dir, parts[len(parts)-1], dirOnly, nil
}

// lookup returns the inode at path.
func lookup(path string) (*inode, error) {
	dir, name, dirOnly, err := walk(path)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return dir, nil
	}
	n, ok := dir.entries[name]
	if !ok {
		return nil, ENOENT
	}
	if dirOnly && !n.isDir() {
		return nil, ENOTDIR
	}
	return n, nil
}

// absPath returns path made absolute and cleaned.
func absPath(path string) (string, error) {
	parts, err := splitPath(path)
	if err != nil {
		return "", err
	}
	s := ""
	for _, p := range parts {
		s += "/" + p
	}
	if s == "" {
		s = "/"
	}
	return s, nil
}

func Open(path string, openmode int, perm uint32) (int, error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	dir, name, dirOnly, err := walk(path)
	if err != nil {
		return -1, err
	}
	var n *inode
	if name == "" {
		n = dir
	} else {
		n = dir.entries[name]
	}
	acc := openmode & (O_WRONLY | O_RDWR)
	switch {
	case n == nil && openmode&O_CREAT == 0:
		return -1, ENOENT
	case n == nil:
		if dirOnly {
			return -1, EISDIR
		}
		if dir.mode&0o200 == 0 {
			return -1, EACCES
		}
		n = newInode(S_IFREG | perm&0o7777)
		dir.entries[name] = n
		dir.mtime = n.mtime
	case openmode&(O_CREAT|O_EXCL) == O_CREAT|O_EXCL:
		return -1, EEXIST
	default:
		if dirOnly && !n.isDir() {
			return -1, ENOTDIR
		}
		if n.isDir() && acc != O_RDONLY {
			return -1, EISDIR
		}
		if openmode&O_DIRECTORY != 0 && !n.isDir() {
			return -1, ENOTDIR
		}
		if (acc == O_RDONLY || acc == O_RDWR) && n.mode&0o400 == 0 ||
			acc != O_RDONLY && n.mode&0o200 == 0 {
			return -1, EACCES
		}
		if openmode&O_TRUNC != 0 && acc != O_RDONLY && !n.isDir() {
			n.data = nil
			n.mtime = nowNano()
		}
	}
	f := &openFile{node: n, flags: openmode}
	if n.isDir() {
		f.path, _ = absPath(path)
		f.names = []string{".", ".."}
		for name := range n.entries {
			f.names = append(f.names, name)
		}
	}
	fd := fsNext
	for fsFiles[fd] != nil {
		fd++
	}
	fsNext = fd + 1
	fsFiles[fd] = f
	return fd, nil
}

// file returns fd's open file; called with fsMu held.
func file(fd int) (*openFile, error) {
	f, ok := fsFiles[fd]
	if !ok {
		if fd >= 0 && fd <= 2 {
			return nil, ENOSYS
		}
		return nil, EBADF
	}
	return f, nil
}

func Close(fd int) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	if _, err := file(fd); err != nil {
		return err
	}
	delete(fsFiles, fd)
	if fd < fsNext {
		fsNext = fd
	}
	return nil
}

func CloseOnExec(fd int) {}

func Mkdir(path string, perm uint32) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	dir, name, _, err := walk(path)
	if err != nil {
		return err
	}
	if name == "" || dir.entries[name] != nil {
		return EEXIST
	}
	if dir.mode&0o200 == 0 {
		return EACCES
	}
	n := newInode(S_IFDIR | perm&0o7777)
	n.parent = dir
	dir.entries[name] = n
	dir.nlink++
	dir.mtime = n.mtime
	return nil
}

// ReadDirent fills buf with directory entries in the format package os
// reads on this GOOS family (os/dirent_jstamago.go): a 2-byte
// little-endian record length (Dirent.Reclen) followed by the name.
func ReadDirent(fd int, buf []byte) (int, error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return 0, err
	}
	if !f.node.isDir() {
		return 0, ENOTDIR
	}
	n := 0
	for f.dirIdx < len(f.names) {
		name := f.names[f.dirIdx]
		l := 2 + len(name)
		if l > len(buf) {
			if n == 0 {
				return 0, EINVAL
			}
			break
		}
		buf[0] = byte(l)
		buf[1] = byte(l >> 8)
		copy(buf[2:], name)
		buf = buf[l:]
		n += l
		f.dirIdx++
	}
	return n, nil
}

func fillStat(n *inode, st *Stat_t) {
	*st = Stat_t{
		Dev:       1,
		Ino:       n.ino,
		Mode:      n.mode,
		Nlink:     n.nlink,
		Size:      int64(len(n.data)),
		Blksize:   4096,
		Blocks:    int32((len(n.data) + 511) / 512),
		Atime:     n.atime / 1e9,
		AtimeNsec: n.atime % 1e9,
		Mtime:     n.mtime / 1e9,
		MtimeNsec: n.mtime % 1e9,
		Ctime:     n.ctime / 1e9,
		CtimeNsec: n.ctime % 1e9,
	}
	if n.isDir() {
		st.Size = int64(len(n.entries))
	}
}

func Stat(path string, st *Stat_t) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path)
	if err != nil {
		return err
	}
	fillStat(n, st)
	return nil
}

// Lstat is Stat: there are no symbolic links.
func Lstat(path string, st *Stat_t) error { return Stat(path, st) }

func Fstat(fd int, st *Stat_t) error {
	if fd >= 0 && fd <= 2 {
		*st = Stat_t{Mode: S_IFCHR | 0o600}
		return nil
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return err
	}
	fillStat(f.node, st)
	return nil
}

func Unlink(path string) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	dir, name, _, err := walk(path)
	if err != nil {
		return err
	}
	n := dir.entries[name]
	switch {
	case name == "" || n != nil && n.isDir():
		return EISDIR
	case n == nil:
		return ENOENT
	}
	delete(dir.entries, name)
	dir.mtime = nowNano()
	return nil
}

func Rmdir(path string) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	dir, name, _, err := walk(path)
	if err != nil {
		return err
	}
	if name == "" {
		return EBUSY
	}
	n := dir.entries[name]
	switch {
	case n == nil:
		return ENOENT
	case !n.isDir():
		return ENOTDIR
	case len(n.entries) != 0:
		return ENOTEMPTY
	}
	delete(dir.entries, name)
	dir.nlink--
	dir.mtime = nowNano()
	return nil
}

func Chmod(path string, mode uint32) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path)
	if err != nil {
		return err
	}
	n.mode = n.mode&S_IFMT | mode&0o7777
	n.ctime = nowNano()
	return nil
}

func Fchmod(fd int, mode uint32) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return err
	}
	f.node.mode = f.node.mode&S_IFMT | mode&0o7777
	f.node.ctime = nowNano()
	return nil
}

// Chown accepts owner 0 (or -1, no change) only: there are no other users.
func Chown(path string, uid, gid int) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	if _, err := lookup(path); err != nil {
		return err
	}
	return chownIDs(uid, gid)
}

func chownIDs(uid, gid int) error {
	if uid > 0 || gid > 0 {
		return EPERM
	}
	return nil
}

func Fchown(fd int, uid, gid int) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	if _, err := file(fd); err != nil {
		return err
	}
	return chownIDs(uid, gid)
}

func Lchown(path string, uid, gid int) error { return Chown(path, uid, gid) }

func UtimesNano(path string, ts []Timespec) error {
	if len(ts) != 2 {
		return EINVAL
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path)
	if err != nil {
		return err
	}
	n.atime = TimespecToNsec(ts[0])
	n.mtime = TimespecToNsec(ts[1])
	return nil
}

func Rename(from, to string) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	fdir, fname, _, err := walk(from)
	if err != nil {
		return err
	}
	tdir, tname, _, err := walk(to)
	if err != nil {
		return err
	}
	if fname == "" || tname == "" {
		return EBUSY
	}
	n := fdir.entries[fname]
	if n == nil {
		return ENOENT
	}
	if n.isDir() {
		// A directory cannot move into itself or below.
		for d := tdir; ; d = d.parent {
			if d == n {
				return EINVAL
			}
			if d == fsRoot {
				break
			}
		}
	}
	if old := tdir.entries[tname]; old != nil && old != n {
		switch {
		case n.isDir() && !old.isDir():
			return ENOTDIR
		case !n.isDir() && old.isDir():
			return EISDIR
		case old.isDir() && len(old.entries) != 0:
			return ENOTEMPTY
		}
		if old.isDir() {
			tdir.nlink--
		}
	}
	delete(fdir.entries, fname)
	tdir.entries[tname] = n
	if n.isDir() {
		fdir.nlink--
		tdir.nlink++
		n.parent = tdir
	}
	t := nowNano()
	fdir.mtime, tdir.mtime, n.ctime = t, t, t
	return nil
}

// resize sets a file's size, zero-filling growth.
func resize(n *inode, length int64) error {
	if length < 0 {
		return EINVAL
	}
	if n.isDir() {
		return EISDIR
	}
	if length <= int64(len(n.data)) {
		n.data = n.data[:length]
	} else {
		n.data = append(n.data, make([]byte, length-int64(len(n.data)))...)
	}
	n.mtime = nowNano()
	return nil
}

func Truncate(path string, length int64) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path)
	if err != nil {
		return err
	}
	if n.mode&0o200 == 0 {
		return EACCES
	}
	return resize(n, length)
}

func Ftruncate(fd int, length int64) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return err
	}
	if f.flags&(O_WRONLY|O_RDWR) == 0 {
		return EINVAL
	}
	return resize(f.node, length)
}

func Chdir(path string) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path)
	if err != nil {
		return err
	}
	if !n.isDir() {
		return ENOTDIR
	}
	fsCwd, err = absPath(path)
	return err
}

// Fchdir changes to the directory fd was opened by, by the path it was
// opened by (testing's T.Chdir returns through it): a directory renamed
// since then is not followed.
func Fchdir(fd int) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return err
	}
	if !f.node.isDir() {
		return ENOTDIR
	}
	if _, err := lookup(f.path); err != nil {
		return err
	}
	fsCwd = f.path
	return nil
}

// Readlink fails with EINVAL: no file is a symbolic link.
func Readlink(path string, buf []byte) (n int, err error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	if _, err := lookup(path); err != nil {
		return 0, err
	}
	return 0, EINVAL
}

func Link(path, link string) error    { return ENOSYS }
func Symlink(path, link string) error { return ENOSYS }
func Fsync(fd int) error              { return nil }
func Dup(fd int) (int, error)         { return -1, ENOSYS }
func Dup2(fd, newfd int) error        { return ENOSYS }
func Pipe(fd []int) error             { return ENOSYS }

// Getcwd returns the working directory (Chdir), / at start.
func Getcwd(buf []byte) (n int, err error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	if len(buf) < len(fsCwd) {
		return 0, ERANGE
	}
	return copy(buf, fsCwd), nil
}

// readAt and writeAt are Read and Write at off; called with fsMu held.
func readAt(f *openFile, b []byte, off int64) (int, error) {
	if f.node.isDir() {
		return 0, EISDIR
	}
	if f.flags&(O_WRONLY|O_RDWR) == O_WRONLY {
		return 0, EBADF
	}
	if off < 0 {
		return 0, EINVAL
	}
	if off >= int64(len(f.node.data)) {
		return 0, nil
	}
	f.node.atime = nowNano()
	return copy(b, f.node.data[off:]), nil
}

func writeAt(f *openFile, b []byte, off int64) (int, error) {
	if f.flags&(O_WRONLY|O_RDWR) == 0 {
		return 0, EBADF
	}
	if off < 0 {
		return 0, EINVAL
	}
	n := f.node
	if end := off + int64(len(b)); end > int64(len(n.data)) {
		if end <= int64(cap(n.data)) {
			n.data = n.data[:end]
		} else {
			// Grow geometrically so appends stay linear.
			d := make([]byte, end, end+end/2)
			copy(d, n.data)
			n.data = d
		}
	}
	copy(n.data[off:], b)
	n.mtime = nowNano()
	return len(b), nil
}

func Read(fd int, b []byte) (int, error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return 0, err
	}
	n, err := readAt(f, b, f.pos)
	f.pos += int64(n)
	return n, err
}

// Write sends standard output and standard error to the console.
func Write(fd int, b []byte) (int, error) {
	if fd == 1 || fd == 2 {
		consoleWrite(b)
		return len(b), nil
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return 0, err
	}
	if f.flags&O_APPEND != 0 {
		f.pos = int64(len(f.node.data))
	}
	n, err := writeAt(f, b, f.pos)
	f.pos += int64(n)
	return n, err
}

func Pread(fd int, b []byte, offset int64) (int, error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return 0, err
	}
	return readAt(f, b, offset)
}

func Pwrite(fd int, b []byte, offset int64) (int, error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return 0, err
	}
	return writeAt(f, b, offset)
}

func Seek(fd int, offset int64, whence int) (int64, error) {
	if fd >= 0 && fd <= 2 {
		return 0, ESPIPE
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return 0, err
	}
	var pos int64
	switch whence {
	case 0:
		pos = offset
	case 1:
		pos = f.pos + offset
	case 2:
		pos = int64(len(f.node.data)) + offset
	default:
		return 0, EINVAL
	}
	if pos < 0 {
		return 0, EINVAL
	}
	f.pos = pos
	if f.node.isDir() && pos == 0 {
		f.dirIdx = 0
	}
	return pos, nil
}

func Getuid() int                          { return 0 }
func Getgid() int                          { return 0 }
func Geteuid() int                         { return 0 }
func Getegid() int                         { return 0 }
func Getgroups() (groups []int, err error) { return nil, nil }
func Getpid() int                          { return 1 }
func Getppid() int                         { return 0 }
func Umask(mask int) (oldmask int)         { return 0o022 }
