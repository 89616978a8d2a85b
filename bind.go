package caddydjango

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// bindAddr is where an app server listens, and where Caddy holds its
// listening socket: a Go network ("tcp" or "unix") and an address
// (HOST:PORT, or a socket path). The zero value is no address.
type bindAddr struct {
	network string
	addr    string
}

// parseBind reads Gunicorn's bind syntax (for every app server): HOST:PORT (or tcp://HOST:PORT),
// unix:PATH (or unix://PATH); "" is 127.0.0.1:8000. Port 0 is refused: it
// would give the server a random port nobody can proxy to. A relative
// socket path stays relative (see resolve).
func parseBind(bind string) (bindAddr, error) {
	orig := bind
	if bind == "" {
		bind = defaultBind
	}
	if rest, ok := strings.CutPrefix(bind, "unix:"); ok {
		b := bindAddr{"unix", strings.TrimPrefix(rest, "//")}
		if b.addr == "" {
			return bindAddr{}, fmt.Errorf("bind %q: missing socket path after unix:", orig)
		}
		return b, nil
	}
	b := bindAddr{"tcp", strings.TrimPrefix(bind, "tcp://")}
	i := strings.LastIndex(b.addr, ":")
	if i < 0 {
		return bindAddr{}, fmt.Errorf("bind %q: want HOST:PORT or unix:PATH", orig)
	}
	port, err := strconv.Atoi(b.addr[i+1:])
	if err != nil || port < 0 || port > 65535 {
		return bindAddr{}, fmt.Errorf("bind %q: port %q is not a number from 0 to 65535", orig, b.addr[i+1:])
	}
	if port == 0 {
		return bindAddr{}, fmt.Errorf("bind %q: port 0 would give the app server a random port nobody can proxy to", orig)
	}
	return b, nil
}

// resolve makes a relative socket path relative to root, like every other
// path of the app.
func (b bindAddr) resolve(root string) bindAddr {
	if b.network == "unix" && !filepath.IsAbs(b.addr) {
		b.addr = filepath.Join(root, b.addr)
	}
	return b
}

// String returns "tcp:HOST:PORT" or "unix:PATH".
func (b bindAddr) String() string {
	if b == (bindAddr{}) {
		return ""
	}
	return b.network + ":" + b.addr
}

// upstream returns the address Caddy's reverse_proxy dials:
// "127.0.0.1:8000" or "unix//run/app.sock".
func (b bindAddr) upstream() string {
	if b.network == "unix" {
		return "unix/" + b.addr
	}
	return b.addr
}

// MarshalJSON writes the String form (a process definition's key is its
// JSON).
func (b bindAddr) MarshalJSON() ([]byte, error) { return json.Marshal(b.String()) }

// Interface guards
var (
	_ fmt.Stringer   = bindAddr{}
	_ json.Marshaler = bindAddr{}
)
