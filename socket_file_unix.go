//go:build unix

package caddydjango

import (
	"errors"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileOf returns a duplicate of ln's descriptor for a child process, one
// that os/exec passes on without changing it.
//
// Every duplicate shares the socket's open file description, and with it
// the O_NONBLOCK flag, with Caddy and with every process serving the
// socket: the app server's generations, old and new, and the workers of a
// killed master. net's File() makes a file whose descriptor os/exec turns
// to blocking mode as it starts the child (os.File.Fd), for all of them at
// once. An asyncio worker still serving the socket (uvicorn's, hypercorn's,
// Gunicorn's UvicornWorker) then accepts a connection and blocks in the
// next accept() with its event loop stopped: the connection it had just
// accepted gets no answer until another one arrives (a readiness probe
// unanswered for a minute; a request on the bind that hung until the old
// workers stopped). A file from os.NewFile of a non-blocking descriptor is
// passed on as it is; every app server puts its listening sockets in
// non-blocking mode itself.
func fileOf(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, errors.New("listener has no file descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, dupErr := -1, error(nil)
	if err := raw.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, os.NewSyscallError("fcntl", dupErr)
	}
	return os.NewFile(uintptr(fd), ln.Addr().String()), nil
}
