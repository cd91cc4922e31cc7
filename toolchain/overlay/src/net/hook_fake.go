// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build js || wasip1

package net

import (
	"context"
	"time"
)

// socketHook and hookSocket are GOOS=tamago's SocketFunc (hook_tamago.go);
// js and wasip1 have no hook.
type socketHook interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	Close() error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	accept(lfd *netFD) (*netFD, error)
}

func hookSocket(ctx context.Context, fd *netFD, laddr, raddr sockaddr) (bool, error) {
	return false, nil
}
