// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package time

// There is no zoneinfo database on bare metal.
var platformZoneSources []string

// initLocal makes Local UTC.
func initLocal() {
	localLoc.name = "UTC"
}
