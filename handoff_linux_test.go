package caddydjango

import (
	"context"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSteeredSocketsTakeEveryConnection: with the sockets listenSteered
// binds in an address's SO_REUSEPORT group, a socket bound there as Caddy
// binds one per config (SO_REUSEPORT, no incoming CPU) receives no new
// connection, before or after them in the group: closing it resets nothing.
func TestSteeredSocketsTakeEveryConnection(t *testing.T) {
	reusePort := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	before, err := reusePort.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	steered, err := listenSteered(before.Addr())
	if err != nil {
		t.Fatal(err)
	}
	after, err := reusePort.Listen(context.Background(), "tcp", before.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()

	var caddys, ours atomic.Int64
	count := func(ln net.Listener, n *atomic.Int64) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}
	go count(before, &caddys)
	go count(after, &caddys)
	for _, ln := range steered {
		defer ln.Close()
		go count(ln, &ours)
	}
	const n = 2000
	for range n {
		c, err := net.Dial("tcp", before.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	waitFor(t, 10*time.Second, func() bool { return caddys.Load()+ours.Load() == n }, "every connection accepted")
	if caddys.Load() != 0 {
		t.Fatalf("Caddy's sockets got %d of %d connections (needs Linux 6.2+: SO_INCOMING_CPU in a SO_REUSEPORT group)", caddys.Load(), n)
	}
}
