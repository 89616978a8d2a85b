package caddydjango

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Go's http.Server.Shutdown marks the server as shutting down before it
// closes its listeners. A kept-alive connection the old server closes in
// between (it read a request and will not answer it, or it just answered
// one and will not read another) must still go to the new server. These
// tests hold that moment open: the old server's listener closes only once
// the old server has closed the connection.

// gatedListener is a server's listener whose Close waits for open.
type gatedListener struct {
	net.Listener
	closing chan struct{} // closed when Close is called
	open    chan struct{} // Close proceeds once this is closed
	closed  chan struct{} // closed when the server closes a connection
}

func (l *gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &notifyConn{Conn: c, closed: l.closed}, nil
}

func (l *gatedListener) Close() error {
	close(l.closing)
	<-l.open
	return l.Listener.Close()
}

// notifyConn reports the server's Close of its connection.
type notifyConn struct {
	net.Conn
	closed chan struct{}
}

func (c *notifyConn) Close() error {
	err := c.Conn.Close()
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return err
}

// addrListener stands for the socket Caddy binds for a new config: it
// accepts nothing (the kept socket gets every connection).
type addrListener struct {
	addr net.Addr
	done chan struct{}
}

func (l *addrListener) Accept() (net.Conn, error) { <-l.done; return nil, net.ErrClosed }
func (l *addrListener) Close() error              { close(l.done); return nil }
func (l *addrListener) Addr() net.Addr            { return l.addr }

// keptAliveReload serves config "old" on a handoff, answers one POST on a
// kept-alive client connection, starts a new config "new" and begins the
// old server's shutdown; during it (listener not yet closed) midShutdown
// runs, then the old server's listener is closed. before runs on the
// client's connection before the shutdown. It returns the client's
// connection and reader.
func keptAliveReload(t *testing.T, oldHandler http.Handler, before func(net.Conn, *bufio.Reader), midShutdown func(net.Conn)) (net.Conn, *bufio.Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(h http.Handler, l net.Listener) *http.Server {
		srv := &http.Server{Handler: h}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	gate := &gatedListener{closing: make(chan struct{}), open: make(chan struct{}), closed: make(chan struct{})}
	gate.Listener = joinHandoff(ln, 5*time.Second, nil)
	old := serve(oldHandler, gate)

	c, r := keptAliveClient(t, ln.Addr().String())
	if before != nil {
		before(c, r)
	}

	newer := &addrListener{addr: ln.Addr(), done: make(chan struct{})}
	serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "new")
	}), joinHandoff(newer, 5*time.Second, nil))

	shutdown := make(chan error, 1)
	go func() { shutdown <- old.Shutdown(context.Background()) }()
	<-gate.closing
	midShutdown(c)
	select {
	case <-gate.closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the old server did not close the connection")
	}
	close(gate.open)
	if err := <-shutdown; err != nil {
		t.Fatalf("old server's shutdown: %v", err)
	}
	return c, r
}

// keptAliveClient connects to addr and sends a first POST, which the old
// server must answer; the connection stays open for the next requests.
func keptAliveClient(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	if got := postOn(t, c, r, "/first"); got != "old" {
		t.Fatalf("first POST answered by %q, want old", got)
	}
	return c, r
}

// postOn sends a POST on c and returns the body of its answer.
func postOn(t *testing.T, c net.Conn, r *bufio.Reader, path string) string {
	t.Helper()
	sendPost(t, c, path)
	return readAnswer(t, r)
}

func sendPost(t *testing.T, c net.Conn, path string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx=1", path); err != nil {
		t.Fatal(err)
	}
}

func readAnswer(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// A POST that arrives on a kept-alive connection after the old server's
// shutdown began, before its listener closed: the old server reads it and
// closes the connection unanswered; the new server answers it.
func TestHandoffRequestReadAsShutdownBegins(t *testing.T) {
	oldHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "old")
	})
	_, r := keptAliveReload(t, oldHandler, nil, func(c net.Conn) { sendPost(t, c, "/second") })
	if got := readAnswer(t, r); got != "new" {
		t.Fatalf("POST sent as the old server shut down answered by %q, want new", got)
	}
}

// A POST answered just before the old server's shutdown began, whose
// handler returns after it began: the old server closes the kept-alive
// connection without reading more; the client's next POST on it is answered
// by the new server.
func TestHandoffAnsweredAsShutdownBegins(t *testing.T) {
	release := make(chan struct{})
	oldHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if r.URL.Path == "/first" {
			_, _ = io.WriteString(w, "old")
			return
		}
		w.Header().Set("Content-Length", "3")
		_, _ = io.WriteString(w, "old")
		w.(http.Flusher).Flush()
		<-release
	})
	answered := func(c net.Conn, r *bufio.Reader) {
		if got := postOn(t, c, r, "/second"); got != "old" {
			t.Fatalf("second POST answered by %q, want old", got)
		}
	}
	c, r := keptAliveReload(t, oldHandler, answered, func(net.Conn) { close(release) })
	sendPost(t, c, "/third")
	if got := readAnswer(t, r); got != "new" {
		t.Fatalf("next POST answered by %q, want new", got)
	}
}

// A new connection accepted while one config is live goes straight to that
// config's server, before its first bytes arrive. Should they arrive after
// a newer config joined (a reload: the old server is about to shut down),
// the newer config's server answers them, and the connection stays usable.
func TestHandoffFirstBytesAfterNewConfig(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP", true: "TLS ClientHello"}[overTLS], func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			accepted := make(chan struct{}, 1)
			serveHandoff(t, "old", joinHandoff(ln, 5*time.Second, nil), overTLS, func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					select {
					case accepted <- struct{}{}:
					default:
					}
				}
			})
			var c net.Conn
			if c, err = net.Dial("tcp", ln.Addr().String()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			select {
			case <-accepted:
			case <-time.After(30 * time.Second):
				t.Fatal("the only config's server did not get the connection before its first bytes")
			}

			newer := &addrListener{addr: ln.Addr(), done: make(chan struct{})}
			serveHandoff(t, "new", joinHandoff(newer, 5*time.Second, nil), overTLS, nil)
			if overTLS {
				c = tls.Client(c, &tls.Config{InsecureSkipVerify: true}) // the ClientHello goes with the first write
			}
			r := bufio.NewReader(c)
			for _, path := range []string{"/first", "/second"} {
				if got := postOn(t, c, r, path); got != "new" {
					t.Fatalf("POST %s sent after the new config joined answered by %q, want new", path, got)
				}
			}
		})
	}
}

// serveHandoff serves l (over TLS with httptest's certificate, if overTLS)
// with a handler that answers name, until the test ends.
func serveHandoff(t *testing.T, name string, l net.Listener, overTLS bool, state func(net.Conn, http.ConnState)) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, name)
	}))
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Config.ConnState = state
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a refused TLS handshake is logged
	if overTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
}

// notifyCloseListener closes closed once its Close has returned.
type notifyCloseListener struct {
	net.Listener
	closed chan struct{}
}

func (l *notifyCloseListener) Close() error {
	err := l.Listener.Close()
	close(l.closed)
	return err
}

// Go composes a response's head before it writes it: a head composed just
// before the old server's shutdown began has no Connection: close, and is
// written to the socket after the old server's listener closed. The client
// then sends its next POST on the connection, which the old server closes
// without reading it: the new server must answer that POST.
func TestHandoffHeadComposedBeforeShutdownWrittenAfter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	composed, lnClosed := make(chan struct{}), make(chan struct{})
	body := strings.Repeat("o", 3000) // over the response's 2 KiB buffer: the head is composed, not yet written
	old := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if r.URL.Path == "/first" {
			_, _ = io.WriteString(w, "old")
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = io.WriteString(w, body)
		close(composed)
		<-lnClosed // the head and the body go out as the handler returns
	})}
	go func() {
		_ = old.Serve(&notifyCloseListener{Listener: joinHandoff(ln, 5*time.Second, nil), closed: lnClosed})
	}()
	t.Cleanup(func() { _ = old.Close() })

	c, r := keptAliveClient(t, ln.Addr().String())

	newer := &addrListener{addr: ln.Addr(), done: make(chan struct{})}
	serveHandoff(t, "new", joinHandoff(newer, 5*time.Second, nil), false, nil)
	sendPost(t, c, "/second")
	<-composed
	shutdown := make(chan error, 1)
	go func() { shutdown <- old.Shutdown(context.Background()) }()

	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("second POST: no answer: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != body || resp.Close {
		t.Fatalf("second POST: %d bytes, Connection: close %v; want the old server's %d bytes, kept alive (the head was composed before the shutdown)", len(got), resp.Close, len(body))
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("old server's shutdown: %v", err)
	}
	sendPost(t, c, "/third")
	if got := readAnswer(t, r); got != "new" {
		t.Fatalf("next POST answered by %q, want new", got)
	}
}
