package caddydjango

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// App servers' listening sockets are created and held by Caddy, one per
// bind address, for as long as any generation of an app server of any
// loaded config uses it. Each app server gets a duplicate as fd 3
// (Gunicorn's `--bind fd://3`, uvicorn's `--fd 3`, …: see appserver.go).
// While none runs (a crash, a swap), connections wait in the kernel's
// backlog instead of being refused.
var sockets = struct {
	sync.Mutex
	m map[bindAddr]*heldSocket
}{m: map[bindAddr]*heldSocket{}}

type heldSocket struct {
	ln   net.Listener
	refs int
	// unix sockets: Gunicorn (and others) unlink the path they find with
	// getsockname() when they stop, so the socket is bound at a private path and the
	// user's path is a hard link to it; the private name is restored after
	// each generation (restorePrivateLink). Dials use the user's path.
	userPath, privPath string
}

// file returns a duplicate of the socket's descriptor for a child process.
func (h *heldSocket) file() (*os.File, error) { return fileOf(h.ln) }

// acquireSocket returns the socket for bind, listening on it first if
// nobody holds it yet.
func acquireSocket(bind bindAddr) (*heldSocket, error) {
	sockets.Lock()
	defer sockets.Unlock()
	if h, ok := sockets.m[bind]; ok {
		h.refs++
		return h, nil
	}
	network, addr := bind.network, bind.addr
	h := &heldSocket{refs: 1}
	if network == "unix" {
		if err := os.MkdirAll(filepath.Dir(addr), 0o755); err != nil {
			return nil, fmt.Errorf("directory for the socket %s: %v", addr, err)
		}
		h.userPath = addr
		h.privPath = filepath.Join(filepath.Dir(addr), "."+filepath.Base(addr)+".caddy-django")
		// socket files left by a previous run would make listen fail
		for _, p := range []string{h.userPath, h.privPath} {
			if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSocket != 0 {
				_ = os.Remove(p)
			}
		}
	}
	var ln net.Listener
	var err error
	if h.userPath != "" {
		ln, err = listenUnixLinked(h.privPath, h.userPath)
	} else {
		ln, err = net.Listen(network, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %v", addr, err)
	}
	h.ln = ln
	sockets.m[bind] = h
	return h, nil
}

// restorePrivateLink gives a unix socket back the private name an app
// server unlinked when it stopped, so that the next one can unlink it in
// turn.
func restorePrivateLink(bind bindAddr) {
	sockets.Lock()
	defer sockets.Unlock()
	if h, ok := sockets.m[bind]; ok && h.privPath != "" {
		relinkUnix(h.privPath, h.userPath)
	}
}

// listenUnixLinked listens on a unix socket bound at bound and reachable at
// name too, a hard link to it. App servers unlink the name they find with
// getsockname() when they stop (Gunicorn, Twisted): clients dial name, and
// relinkUnix gives the socket back its bound name before the next server
// starts, so that it can unlink it in turn.
func listenUnixLinked(bound, name string) (net.Listener, error) {
	ln, err := net.Listen("unix", bound)
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Link(bound, name); err != nil {
		ln.Close()
		_ = os.Remove(bound)
		return nil, err
	}
	return ln, nil
}

// relinkUnix gives a socket of listenUnixLinked its bound name back.
func relinkUnix(bound, name string) {
	if _, err := os.Lstat(bound); err != nil {
		_ = os.Link(name, bound)
	}
}

// releaseSocket drops one reference; the last one closes the socket.
func releaseSocket(bind bindAddr) {
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
		if h.userPath != "" {
			_ = os.Remove(h.userPath)
			_ = os.Remove(h.privPath)
		}
	}
}
