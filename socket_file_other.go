//go:build !unix

package caddydjango

import (
	"errors"
	"net"
	"os"
)

// fileOf returns a duplicate of ln's descriptor for a child process.
func fileOf(ln net.Listener) (*os.File, error) {
	type filer interface{ File() (*os.File, error) }
	f, ok := ln.(filer)
	if !ok {
		return nil, errors.New("listener has no file descriptor")
	}
	return f.File()
}
