// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

// GOOS=tamago has no file system: standard output and standard error go to
// the console, every other file operation fails with ENOSYS (or EBADF for
// a descriptor that is not open).

package syscall

// Provided by package runtime.
func now() (sec int64, nsec int32)

// consoleWrite writes b to the console; provided by package runtime.
func consoleWrite(b []byte)

func badFD(fd int) error {
	if fd >= 0 && fd <= 2 {
		return ENOSYS
	}
	return EBADF
}

func Open(path string, openmode int, perm uint32) (int, error) { return -1, ENOSYS }
func Close(fd int) error                                       { return badFD(fd) }
func CloseOnExec(fd int)                                       {}
func Mkdir(path string, perm uint32) error                     { return ENOSYS }
func ReadDirent(fd int, buf []byte) (int, error)               { return 0, badFD(fd) }
func Stat(path string, st *Stat_t) error                       { return ENOSYS }
func Lstat(path string, st *Stat_t) error                      { return ENOSYS }

func Fstat(fd int, st *Stat_t) error {
	if fd >= 0 && fd <= 2 {
		*st = Stat_t{Mode: S_IFCHR | 0o600}
		return nil
	}
	return EBADF
}

func Unlink(path string) error                            { return ENOSYS }
func Rmdir(path string) error                             { return ENOSYS }
func Chmod(path string, mode uint32) error                { return ENOSYS }
func Fchmod(fd int, mode uint32) error                    { return badFD(fd) }
func Chown(path string, uid, gid int) error               { return ENOSYS }
func Fchown(fd int, uid, gid int) error                   { return badFD(fd) }
func Lchown(path string, uid, gid int) error              { return ENOSYS }
func UtimesNano(path string, ts []Timespec) error         { return ENOSYS }
func Rename(from, to string) error                        { return ENOSYS }
func Truncate(path string, length int64) error            { return ENOSYS }
func Ftruncate(fd int, length int64) error                { return badFD(fd) }
func Chdir(path string) (err error)                       { return ENOSYS }
func Fchdir(fd int) error                                 { return badFD(fd) }
func Readlink(path string, buf []byte) (n int, err error) { return 0, ENOSYS }
func Link(path, link string) error                        { return ENOSYS }
func Symlink(path, link string) error                     { return ENOSYS }
func Fsync(fd int) error                                  { return nil }
func Dup(fd int) (int, error)                             { return -1, ENOSYS }
func Dup2(fd, newfd int) error                            { return ENOSYS }
func Pipe(fd []int) error                                 { return ENOSYS }

// Getcwd reports the root: there is no other directory.
func Getcwd(buf []byte) (n int, err error) {
	if len(buf) < 1 {
		return 0, ERANGE
	}
	buf[0] = '/'
	return 1, nil
}

func Read(fd int, b []byte) (int, error) { return 0, badFD(fd) }

// Write sends standard output and standard error to the console.
func Write(fd int, b []byte) (int, error) {
	if fd == 1 || fd == 2 {
		consoleWrite(b)
		return len(b), nil
	}
	return 0, badFD(fd)
}

func Pread(fd int, b []byte, offset int64) (int, error)  { return 0, badFD(fd) }
func Pwrite(fd int, b []byte, offset int64) (int, error) { return 0, badFD(fd) }
func Seek(fd int, offset int64, whence int) (int64, error) {
	if fd >= 0 && fd <= 2 {
		return 0, ESPIPE
	}
	return 0, EBADF
}

func Getuid() int                          { return 0 }
func Getgid() int                          { return 0 }
func Geteuid() int                         { return 0 }
func Getegid() int                         { return 0 }
func Getgroups() (groups []int, err error) { return nil, nil }
func Getpid() int                          { return 1 }
func Getppid() int                         { return 0 }
func Umask(mask int) (oldmask int)         { return 0o022 }
