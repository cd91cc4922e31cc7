// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build (js && wasm) || plan9

package os

func (r *root) open() error { return nil }

// dir returns the root directory's path: the name it was opened by.
func (r *root) dir() string { return r.name }
