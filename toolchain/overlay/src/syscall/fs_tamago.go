// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

// GOOS=tamago has an in-memory file system: files and directories held in
// the Go heap (so its size limit is the heap's: the runtime's memory, the
// board's RAM size, less what the program itself uses). It starts with
// the directories / and /tmp (os.TempDir) and the character device
// /dev/null (reads at end of file, writes discarded), and nothing else; an
// application preloads files with package os (os.WriteFile, os.CopyFS
// from an embed.FS). Descriptors 0, 1 and 2 are the console: writes to 1
// and 2 go to it, reads from 0 fail with ENOSYS. Pipe makes an in-memory
// pipe (64 KiB buffer, blocking reads and writes, EPIPE once the read end
// is closed, end of file once the write end is).
//
// One mutex guards the whole tree and the descriptor table: operations
// from concurrent goroutines are serialized. A goroutine waiting for it
// sleeps in the scheduler (sync.Mutex), it never spins; the file system
// is never used from interrupt context (interrupt handlers make no
// system calls), so the holder is always a goroutine that will release
// it; a goroutine blocked on a pipe waits on the pipe's own lock, not
// this one. Symbolic links are resolved component by component as on
// Unix (".." is the parent of the directory reached, not a lexical
// step; at most maxSymlinks links per path, then ELOOP). There are no
// hard links, no owners other than 0, and permission bits are checked for
// the owner on open (EACCES).

package syscall

import "sync"

// Provided by package runtime.
func now() (sec int64, nsec int32)

// consoleWrite writes b to the console; provided by package runtime.
func consoleWrite(b []byte)

// maxSymlinks bounds the symbolic links followed in one path (Linux's
// MAXSYMLINKS): more is ELOOP.
const maxSymlinks = 40

// utimeOmit in a Timespec's Nsec leaves that time unchanged
// (internal/syscall/unix.UTIME_OMIT on this GOOS family).
const utimeOmit = -0x2

// pipeSize is a pipe's buffer: a write blocks while it is full.
const pipeSize = 64 << 10

// inode is a file, a directory, a symbolic link, a pipe or /dev/null.
type inode struct {
	ino     uint64
	mode    uint32 // S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO or S_IFCHR | permission bits
	link    string // a symbolic link's target
	pipe    *pipe  // a pipe's state
	data    []byte
	entries map[string]*inode // directories only
	parent  *inode            // directories only (the root is its own parent)
	nlink   uint32
	mtime   int64 // nanoseconds
	atime   int64
	ctime   int64
}

func (n *inode) isDir() bool  { return n.mode&S_IFMT == S_IFDIR }
func (n *inode) isLink() bool { return n.mode&S_IFMT == S_IFLNK }
func (n *inode) isChr() bool  { return n.mode&S_IFMT == S_IFCHR }

// pipe is a pipe's buffer and open ends, guarded by mu (not fsMu: a
// blocked reader or writer waits on cond with fsMu released).
type pipe struct {
	mu               sync.Mutex
	cond             sync.Cond
	buf              []byte
	readers, writers int
}

// openFile is an open descriptor.
type openFile struct {
	node   *inode
	flags  int
	pos    int64
	names  []string // a directory's entries, read at open
	dirIdx int
	// stopped (guarded by the pipe's mu) makes a pipe end's blocked and
	// later reads and writes return EAGAIN: StopIO, called by package
	// internal/poll when the descriptor is closed, so that the blocked
	// call returns and the close completes.
	stopped bool
}

var (
	fsMu    sync.Mutex
	fsRoot  *inode
	fsCwd   *inode // the working directory
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

// fsInit creates /, /tmp and /dev/null; called with fsMu held.
func fsInit() {
	if fsRoot != nil {
		return
	}
	fsRoot = newInode(S_IFDIR | 0o755)
	fsRoot.parent = fsRoot
	fsCwd = fsRoot
	mkdirIn(fsRoot, "tmp", 0o1777)
	dev := mkdirIn(fsRoot, "dev", 0o755)
	dev.entries["null"] = newInode(S_IFCHR | 0o666)
}

// mkdirIn adds the directory name to dir; called with fsMu held.
func mkdirIn(dir *inode, name string, perm uint32) *inode {
	n := newInode(S_IFDIR | perm&0o7777)
	n.parent = dir
	dir.entries[name] = n
	dir.nlink++
	dir.mtime = n.mtime
	return n
}

// components returns path's names, without empty ones.
func components(path string) []string {
	var parts []string
	for i := 0; i < len(path); {
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		if j > i {
			parts = append(parts, path[i:j])
		}
		i = j + 1
	}
	return parts
}

// resolve walks path as Unix does, component by component from / or the
// working directory: ".." is the parent of the directory reached so far,
// a symbolic link in the middle is followed, and one as the last
// component too when follow is set or the path ends in a slash. It
// returns the directory holding the last component, that component's name
// and its inode (nil if it does not exist); name is "" when the path ends
// at a directory itself (/, ".", ".."), n then being dir. dirOnly reports
// a trailing slash (the result must be a directory). Called with fsMu
// held.
func resolve(path string, follow bool) (dir *inode, name string, n *inode, dirOnly bool, err error) {
	if path == "" {
		return nil, "", nil, false, ENOENT
	}
	for i := 0; i < len(path); i++ {
		if path[i] == 0 {
			return nil, "", nil, false, EINVAL
		}
	}
	fsInit()
	dirOnly = path[len(path)-1] == '/'
	cur := fsCwd
	if path[0] == '/' {
		cur = fsRoot
	}
	parts := components(path)
	links := 0
	for len(parts) > 0 {
		c := parts[0]
		parts = parts[1:]
		last := len(parts) == 0
		switch c {
		case ".":
			continue
		case "..":
			cur = cur.parent
			continue
		}
		next := cur.entries[c]
		if next != nil && next.isLink() && (!last || follow || dirOnly) {
			if links++; links > maxSymlinks {
				return nil, "", nil, false, ELOOP
			}
			t := next.link
			if t[0] == '/' {
				cur = fsRoot
			}
			if last && t[len(t)-1] == '/' {
				dirOnly = true
			}
			parts = append(components(t), parts...)
			continue
		}
		if last {
			return cur, c, next, dirOnly, nil
		}
		if next == nil {
			return nil, "", nil, false, ENOENT
		}
		if !next.isDir() {
			return nil, "", nil, false, ENOTDIR
		}
		cur = next
	}
	return cur, "", cur, dirOnly, nil
}

// lookup returns the inode at path.
func lookup(path string, follow bool) (*inode, error) {
	_, _, n, dirOnly, err := resolve(path, follow)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, ENOENT
	}
	if dirOnly && !n.isDir() {
		return nil, ENOTDIR
	}
	return n, nil
}

// dirPath returns directory n's absolute path by its parents (ENOENT if
// it has been removed).
func dirPath(n *inode) (string, error) {
	s := ""
	for n != fsRoot {
		p := n.parent
		name := ""
		for k, v := range p.entries {
			if v == n {
				name = k
				break
			}
		}
		if name == "" {
			return "", ENOENT
		}
		s = "/" + name + s
		n = p
	}
	if s == "" {
		s = "/"
	}
	return s, nil
}

func Open(path string, openmode int, perm uint32) (int, error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	// O_CREAT|O_EXCL does not follow a final symbolic link: it exists.
	dir, name, n, dirOnly, err := resolve(path, openmode&(O_CREAT|O_EXCL) != O_CREAT|O_EXCL)
	if err != nil {
		return -1, err
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
		f.names = []string{".", ".."}
		for name := range n.entries {
			f.names = append(f.names, name)
		}
		sortNames(f.names[2:])
	}
	return newFD(f), nil
}

// newFD gives f the lowest free descriptor; called with fsMu held.
func newFD(f *openFile) int {
	fd := fsNext
	for fsFiles[fd] != nil {
		fd++
	}
	fsNext = fd + 1
	fsFiles[fd] = f
	return fd
}

// sortNames sorts a directory's names (insertion sort: syscall imports no
// sort package), so that every open of a directory lists it in the same
// order, as a disk's directory does.
func sortNames(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
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
	f, err := file(fd)
	if err != nil {
		return err
	}
	if p := f.node.pipe; p != nil {
		p.mu.Lock()
		if f.flags&(O_WRONLY|O_RDWR) == 0 {
			p.readers--
		} else {
			p.writers--
		}
		p.cond.Broadcast()
		p.mu.Unlock()
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
	dir, name, n, _, err := resolve(path, false)
	if err != nil {
		return err
	}
	if n != nil {
		return EEXIST
	}
	if dir.mode&0o200 == 0 {
		return EACCES
	}
	mkdirIn(dir, name, perm)
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
	switch {
	case n.isDir():
		st.Size = int64(len(n.entries))
	case n.isLink():
		st.Size = int64(len(n.link))
	case n.pipe != nil:
		st.Size = 0
	}
}

func Stat(path string, st *Stat_t) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path, true)
	if err != nil {
		return err
	}
	fillStat(n, st)
	return nil
}

// Lstat is Stat of a symbolic link itself.
func Lstat(path string, st *Stat_t) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path, false)
	if err != nil {
		return err
	}
	fillStat(n, st)
	return nil
}

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
	dir, name, n, dirOnly, err := resolve(path, false)
	if err != nil {
		return err
	}
	switch {
	case name == "" || n != nil && n.isDir():
		return EISDIR
	case n == nil:
		return ENOENT
	case dirOnly:
		return ENOTDIR
	}
	delete(dir.entries, name)
	dir.mtime = nowNano()
	return nil
}

func Rmdir(path string) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	dir, name, n, _, err := resolve(path, false)
	if err != nil {
		return err
	}
	if name == "" {
		return EBUSY
	}
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
	n, err := lookup(path, true)
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
func Chown(path string, uid, gid int) error { return chown(path, uid, gid, true) }

func chown(path string, uid, gid int, follow bool) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	if _, err := lookup(path, follow); err != nil {
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

func Lchown(path string, uid, gid int) error { return chown(path, uid, gid, false) }

func UtimesNano(path string, ts []Timespec) error {
	if len(ts) != 2 {
		return EINVAL
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	n, err := lookup(path, true)
	if err != nil {
		return err
	}
	if ts[0].Nsec != utimeOmit {
		n.atime = TimespecToNsec(ts[0])
	}
	if ts[1].Nsec != utimeOmit {
		n.mtime = TimespecToNsec(ts[1])
	}
	n.ctime = nowNano()
	return nil
}

func Rename(from, to string) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	fdir, fname, n, _, err := resolve(from, false)
	if err != nil {
		return err
	}
	tdir, tname, _, _, err := resolve(to, false)
	if err != nil {
		return err
	}
	if fname == "" || tname == "" {
		return EBUSY
	}
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
	n, err := lookup(path, true)
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
	n, err := lookup(path, true)
	if err != nil {
		return err
	}
	if !n.isDir() {
		return ENOTDIR
	}
	fsCwd = n
	return nil
}

// Fchdir changes to the directory fd refers to, wherever it has been
// renamed since.
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
	fsCwd = f.node
	return nil
}

// Readlink copies a symbolic link's target into buf (EINVAL if path is
// not a link).
func Readlink(path string, buf []byte) (n int, err error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	l, err := lookup(path, false)
	if err != nil {
		return 0, err
	}
	if !l.isLink() {
		return 0, EINVAL
	}
	return copy(buf, l.link), nil
}

// Symlink makes link a symbolic link to path (which need not exist).
func Symlink(path, link string) error {
	fsMu.Lock()
	defer fsMu.Unlock()
	if path == "" {
		return ENOENT
	}
	dir, name, n, _, err := resolve(link, false)
	if err != nil {
		return err
	}
	if n != nil {
		return EEXIST
	}
	if dir.mode&0o200 == 0 {
		return EACCES
	}
	l := newInode(S_IFLNK | 0o777)
	l.link = path
	dir.entries[name] = l
	dir.mtime = l.mtime
	return nil
}

// Pipe makes a pipe: fd[0] its read end, fd[1] its write end.
func Pipe(fd []int) error {
	if len(fd) != 2 {
		return EINVAL
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	fsInit()
	n := newInode(S_IFIFO | 0o600)
	n.pipe = &pipe{readers: 1, writers: 1}
	n.pipe.cond.L = &n.pipe.mu
	fd[0] = newFD(&openFile{node: n, flags: O_RDONLY})
	fd[1] = newFD(&openFile{node: n, flags: O_WRONLY})
	return nil
}

// pipeRead reads what is buffered, waiting while the pipe is empty and
// has a writer; 0 at end of file.
func pipeRead(f *openFile, b []byte) (int, error) {
	p := f.node.pipe
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.flags&(O_WRONLY|O_RDWR) != 0 {
		return 0, EBADF
	}
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if f.stopped {
			return 0, EAGAIN
		}
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[:copy(p.buf, p.buf[n:])]
			p.cond.Broadcast()
			return n, nil
		}
		if p.writers == 0 {
			return 0, nil
		}
		p.cond.Wait()
	}
}

// pipeWrite writes all of b, waiting while the buffer is full; EPIPE
// once there is no reader.
func pipeWrite(f *openFile, b []byte) (int, error) {
	p := f.node.pipe
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.flags&(O_WRONLY|O_RDWR) == 0 {
		return 0, EBADF
	}
	n := 0
	for {
		if f.stopped {
			return n, EAGAIN
		}
		if p.readers == 0 {
			return n, EPIPE
		}
		if k := min(len(b)-n, pipeSize-len(p.buf)); k > 0 {
			p.buf = append(p.buf, b[n:n+k]...)
			n += k
			p.cond.Broadcast()
		}
		if n == len(b) {
			return n, nil
		}
		p.cond.Wait()
	}
}

// StopIO wakes a pipe end's blocked reads and writes with EAGAIN
// (nothing else blocks); package internal/poll calls it on close.
func StopIO(fd int) error {
	fsMu.Lock()
	f, ok := fsFiles[fd]
	fsMu.Unlock()
	if !ok {
		return EBADF
	}
	if p := f.node.pipe; p != nil {
		p.mu.Lock()
		f.stopped = true
		p.cond.Broadcast()
		p.mu.Unlock()
	}
	return nil
}

func Link(path, link string) error { return ENOSYS }
func Fsync(fd int) error           { return nil }
func Dup(fd int) (int, error)      { return -1, ENOSYS }
func Dup2(fd, newfd int) error     { return ENOSYS }

// Fdpath returns the absolute path of the directory fd refers to, where
// it is now (package os's Root follows a renamed directory by it, as
// openat would).
func Fdpath(fd int) (string, error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	f, err := file(fd)
	if err != nil {
		return "", err
	}
	if !f.node.isDir() {
		return "", ENOTDIR
	}
	return dirPath(f.node)
}

// Getcwd returns the working directory (Chdir), / at start.
func Getcwd(buf []byte) (n int, err error) {
	fsMu.Lock()
	defer fsMu.Unlock()
	fsInit()
	wd, err := dirPath(fsCwd)
	if err != nil {
		return 0, err
	}
	if len(buf) < len(wd) {
		return 0, ERANGE
	}
	return copy(buf, wd), nil
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
	if f.node.isChr() || off >= int64(len(f.node.data)) {
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
	if n.isChr() {
		return len(b), nil
	}
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
	f, err := file(fd)
	if err == nil && f.node.pipe != nil {
		fsMu.Unlock()
		return pipeRead(f, b)
	}
	defer fsMu.Unlock()
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
	f, err := file(fd)
	if err == nil && f.node.pipe != nil {
		fsMu.Unlock()
		return pipeWrite(f, b)
	}
	defer fsMu.Unlock()
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
	if f.node.pipe != nil {
		return 0, ESPIPE
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
	if f.node.pipe != nil {
		return 0, ESPIPE
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
	if f.node.pipe != nil {
		return 0, ESPIPE
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
