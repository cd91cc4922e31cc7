// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !tamago

package runtime

// GOOS=tamago's signal receiver (sigqueue_tamago.go); never called
// elsewhere (sigqueue.go calls them under GOOS == "tamago").
func sigParkTamago() {}
func sigWakeTamago() {}
