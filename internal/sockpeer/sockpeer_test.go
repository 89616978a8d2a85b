package sockpeer

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// listeners are the two kinds of connection the package answers for: a
// unix stream socket and loopback TCP.
var listeners = []struct {
	name   string
	listen func(t *testing.T) net.Listener
}{
	{"unix", func(t *testing.T) net.Listener {
		ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "socket"))
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}},
	{"tcp", func(t *testing.T) net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}},
}

func requireLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sockpeer looks connections up on Linux only")
	}
}

// dial connects to ln and returns the client end and the accepted end (nil
// when accept is false: the connection waits in ln's queue).
func dial(t *testing.T, ln net.Listener, accept bool) (client, server net.Conn) {
	t.Helper()
	c, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !accept {
		return c, nil
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c, s
}

// eachKind runs fn on a connection of each kind: c its client end, s the
// end the listener accepted (nil without accept: c waits in its queue).
func eachKind(t *testing.T, accept bool, fn func(t *testing.T, c, s net.Conn)) {
	requireLinux(t)
	for _, l := range listeners {
		t.Run(l.name, func(t *testing.T) {
			ln := l.listen(t)
			defer ln.Close()
			c, s := dial(t, ln, accept)
			fn(t, c, s)
		})
	}
}

// TestHolderIsThisProcess: the accepted end is this process's.
func TestHolderIsThisProcess(t *testing.T) {
	eachKind(t, true, func(t *testing.T, c, _ net.Conn) {
		got, err := Holders(c, nil)
		if err != nil || !slices.Equal(got, []int{os.Getpid()}) {
			t.Fatalf("Holders = %v, %v; want [%d] (this process)", got, err, os.Getpid())
		}
		// limited to other processes: nobody
		if got, err := Holders(c, []int{1}); err != nil || len(got) != 0 {
			t.Errorf("Holders among [1] = %v, %v; want none", got, err)
		}
	})
}

// TestHolderIsAChild: a child process that got the accepted connection
// (as a pre-forking server's worker does) and the parent closed it: the
// child holds it.
func TestHolderIsAChild(t *testing.T) {
	eachKind(t, true, func(t *testing.T, c, s net.Conn) {
		f, err := s.(interface{ File() (*os.File, error) }).File()
		if err != nil {
			t.Fatal(err)
		}
		child := exec.Command("sleep", "60")
		child.ExtraFiles = []*os.File{f}
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { child.Process.Kill(); child.Wait() })
		f.Close()
		s.Close()
		got, err := Holders(c, nil)
		if err != nil || !slices.Equal(got, []int{child.Process.Pid}) {
			t.Fatalf("Holders = %v, %v; want [%d] (the child)", got, err, child.Process.Pid)
		}
	})
}

// TestQueuedHasNoHolder: a connection nobody accepted yet (waiting in the
// listening socket's queue) has no holder, and that is no error.
func TestQueuedHasNoHolder(t *testing.T) {
	eachKind(t, false, func(t *testing.T, c, _ net.Conn) {
		if got, err := Holders(c, nil); err != nil || len(got) != 0 {
			t.Fatalf("Holders of a queued connection = %v, %v; want none", got, err)
		}
	})
}

// TestUnsupportedConn: a connection that is not a socket of this kind.
func TestUnsupportedConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := Holders(a, nil); err != ErrUnsupported {
		t.Fatalf("Holders(net.Pipe) error = %v, want ErrUnsupported", err)
	}
}
