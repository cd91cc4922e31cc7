// Copyright 2026 The pagesnap Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package net

import (
	"context"
	"os"
	"syscall"
	"time"
)

// SocketFunc, when not nil, gives every socket package net opens on
// GOOS=tamago (Dial, Listen and their variants) to an application's
// network stack instead of the in-process fake network (which only
// connects the program's own sockets to each other). It is called with
// the network ("tcp", "tcp4", "udp", ...), the address family and socket
// type (syscall.AF_INET or AF_INET6, syscall.SOCK_STREAM or SOCK_DGRAM)
// and the addresses: raddr nil for a listener, laddr nil for a dial
// without a local address. It returns a Conn for a dial and a Listener
// for a listen. Packet operations (ReadFrom, WriteTo) and CloseRead and
// CloseWrite are not passed on (they fail); set SocketFunc before the
// first socket.
var SocketFunc func(ctx context.Context, network string, family, sotype int, laddr, raddr Addr) (any, error)

// socketHook is what a fakeNetFD delegates to when SocketFunc made it.
type socketHook interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	Close() error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	accept(lfd *netFD) (*netFD, error)
}

// connHook is an application's Conn.
type connHook struct{ Conn }

func (connHook) accept(*netFD) (*netFD, error) {
	return nil, os.NewSyscallError("accept", syscall.EINVAL)
}

// listenerHook is an application's Listener.
type listenerHook struct{ l Listener }

func (h listenerHook) Read([]byte) (int, error) {
	return 0, os.NewSyscallError("read", syscall.ENOTCONN)
}
func (h listenerHook) Write([]byte) (int, error) {
	return 0, os.NewSyscallError("write", syscall.ENOTCONN)
}
func (h listenerHook) Close() error { return h.l.Close() }
func (h listenerHook) SetReadDeadline(t time.Time) error {
	if d, ok := h.l.(interface{ SetDeadline(time.Time) error }); ok {
		return d.SetDeadline(t)
	}
	return os.NewSyscallError("setdeadline", syscall.ENOTSUP)
}
func (h listenerHook) SetWriteDeadline(time.Time) error { return nil }

func (h listenerHook) accept(lfd *netFD) (*netFD, error) {
	c, err := h.l.Accept()
	if err != nil {
		return nil, err
	}
	fd := &netFD{family: lfd.family, sotype: lfd.sotype, net: lfd.net}
	fd.fakeNetFD = newFakeNetFD(fd)
	fd.fakeNetFD.hook = connHook{c}
	fd.setAddr(c.LocalAddr(), c.RemoteAddr())
	return fd, nil
}

// hookSocket opens fd through SocketFunc when it is set (ok true).
func hookSocket(ctx context.Context, fd *netFD, laddr, raddr sockaddr) (ok bool, err error) {
	if SocketFunc == nil {
		return false, nil
	}
	var la, ra Addr
	if laddr != nil {
		la = laddr
	}
	if raddr != nil {
		ra = raddr
	}
	s, err := SocketFunc(ctx, fd.net, fd.family, fd.sotype, la, ra)
	if err != nil {
		return true, err
	}
	switch s := s.(type) {
	case Conn:
		fd.fakeNetFD.hook = connHook{s}
		fd.setAddr(s.LocalAddr(), s.RemoteAddr())
	case Listener:
		fd.fakeNetFD.hook = listenerHook{s}
		fd.setAddr(s.Addr(), nil)
	default:
		return true, os.NewSyscallError("socket", syscall.EINVAL)
	}
	return true, nil
}
