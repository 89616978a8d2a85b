package caddydjango

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
)

// Gunicorn's listening sockets are created and held by Caddy, one per bind
// address, for as long as any Gunicorn generation of any loaded config uses
// it. Each Gunicorn gets a duplicate as fd 3 (`--bind fd://3`). While no
// Gunicorn runs (a crash, a swap), connections wait in the kernel's backlog
// instead of being refused.
var sockets = struct {
	sync.Mutex
	m map[string]*heldSocket
}{m: map[string]*heldSocket{}}

type heldSocket struct {
	ln   net.Listener
	refs int
}

// file returns a duplicate of the socket's descriptor for a child process.
func (h *heldSocket) file() (*os.File, error) {
	type filer interface{ File() (*os.File, error) }
	f, ok := h.ln.(filer)
	if !ok {
		return nil, errors.New("listener has no file descriptor")
	}
	return f.File()
}

// acquireSocket returns the socket for bind ("tcp:HOST:PORT" or
// "unix:PATH"), listening on it first if nobody holds it yet.
func acquireSocket(bind string) (*heldSocket, error) {
	sockets.Lock()
	defer sockets.Unlock()
	if h, ok := sockets.m[bind]; ok {
		h.refs++
		return h, nil
	}
	network, addr := bindNetwork(bind)
	if network == "unix" {
		// A socket file left by a previous run would make listen fail.
		if fi, err := os.Lstat(addr); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			_ = os.Remove(addr)
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listening for gunicorn on %s: %v", addr, err)
	}
	h := &heldSocket{ln: ln, refs: 1}
	sockets.m[bind] = h
	return h, nil
}

// releaseSocket drops one reference; the last one closes the socket.
func releaseSocket(bind string) {
	sockets.Lock()
	defer sockets.Unlock()
	h, ok := sockets.m[bind]
	if !ok {
		return
	}
	h.refs--
	if h.refs <= 0 {
		delete(sockets.m, bind)
		_ = h.ln.Close()
	}
}

func bindNetwork(bind string) (network, addr string) {
	for i := 0; i < len(bind); i++ {
		if bind[i] == ':' {
			return bind[:i], bind[i+1:]
		}
	}
	return "tcp", bind
}
