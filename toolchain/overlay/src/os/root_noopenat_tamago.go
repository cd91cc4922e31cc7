// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package os

import "syscall"

// open keeps the root directory open: dir is where it is now.
func (r *root) open() error {
	f, err := Open(r.name)
	if err != nil {
		return err.(*PathError).Err
	}
	r.fd = f
	return nil
}

// dir returns the root directory's path: where the directory opened by
// OpenRoot is now, renamed or not, as openat on its descriptor would
// reach it (the name it was opened by if it has been removed).
func (r *root) dir() string {
	if r.fd != nil {
		if p, err := syscall.Fdpath(r.fd.pfd.Sysfd); err == nil {
			return p
		}
	}
	return r.name
}
