// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package sysrand

import _ "unsafe"

// getRandomData is the board's random source (runtime/goos.GetRandomData).
//
//go:linkname getRandomData runtime.getRandomData
func getRandomData(b []byte)

// read fills b from the board's random source.
func read(b []byte) error {
	getRandomData(b)
	return nil
}
