// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !tamago

package runtime

// hwinit1 is the GOOS=tamago board hook; other systems have none.
func hwinit1() {}
