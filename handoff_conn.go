package caddydjango

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// maxReplay bounds what a connection keeps of the bytes its server read
// since it last wrote; a request larger than this is never handed over.
const maxReplay = 64 << 10

// handoffConn is a connection as one config's server sees it. It remembers
// what the server read since it last wrote, so that when a shutting-down
// server closes the connection without having answered (or between two
// HTTP/1.1 requests), the connection goes to the newest server instead, with
// those bytes replayed.
type handoffConn struct {
	net.Conn
	ln *handoffListener

	mu      sync.Mutex
	cond    sync.Cond
	prefix  []byte // bytes to serve before reading the socket
	replay  []byte // bytes read since the last write
	overrun bool   // replay exceeded maxReplay
	reading bool
	state   int // connLive, connHanding, connClosed

	kind      int  // kindUnknown, kindHTTP1, kindOther (TLS, h2c)
	written   bool // the server wrote something
	readSince bool // the server read since its last write: the next write starts a response
	noReuse   bool // upgraded, hijacked, or answered with Connection: close

	// A TLS connection is pending (see handoffSocket.waitOlder) until its
	// server writes after reading what followed its handshake flight.
	pending bool
	phase   int // 0: handshake flight not written; 1: written; 2: read after it
}

const (
	connLive = iota
	connHanding
	connClosed
)

const (
	kindUnknown = iota
	kindHTTP1
	kindOther
)

// newHandoffConn is c handed to hl's server, prefix served first.
func newHandoffConn(c net.Conn, hl *handoffListener, prefix []byte) *handoffConn {
	hc := &handoffConn{Conn: c, ln: hl, prefix: prefix}
	hc.cond.L = &hc.mu
	return hc
}

// aLongTimeAgo interrupts a blocked Read.
var aLongTimeAgo = time.Unix(1, 0)

// Read serves the replayed prefix first, then the socket.
func (c *handoffConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.state != connLive {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		c.record(p[:n])
		c.mu.Unlock()
		return n, nil
	}
	// A shutting-down server would not answer a first request (or finish a
	// TLS handshake): refuse, so that it closes the connection and it is
	// handed over whole.
	if !c.written && c.kind != kindHTTP1 && c.ln.closed() {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	c.reading = true
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.reading = false
	if n > 0 {
		c.record(p[:n])
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	return n, err
}

// record keeps b for a replay; c.mu is held.
func (c *handoffConn) record(b []byte) {
	if c.kind == kindUnknown && len(b) > 0 {
		c.kind = classify(b)
	}
	c.readSince = true
	if c.phase == 1 {
		c.phase = 2
	}
	if c.overrun {
		return
	}
	if len(c.replay)+len(b) > maxReplay {
		c.overrun, c.replay = true, nil
		return
	}
	c.replay = append(c.replay, b...)
}

// classify tells an HTTP/1 request (a method: upper-case letters) from a TLS
// record or the HTTP/2 preface.
func classify(b []byte) int {
	if b[0] < 'A' || b[0] > 'Z' || bytes.HasPrefix(b, []byte("PRI ")) {
		return kindOther
	}
	return kindHTTP1
}

// Write notes the response's head before writing.
func (c *handoffConn) Write(p []byte) (int, error) {
	if !c.beginWrite(p) {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

// ReadFrom keeps the socket's sendfile/splice path.
func (c *handoffConn) ReadFrom(r io.Reader) (int64, error) {
	if !c.beginWrite(nil) {
		return 0, net.ErrClosed
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *handoffConn) beginWrite(p []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != connLive {
		return false
	}
	if c.readSince && c.kind == kindHTTP1 && p != nil {
		head := p
		if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
			head = head[:i+2]
		}
		if bytes.HasPrefix(head, []byte("HTTP/1.1 101")) || bytes.HasPrefix(head, []byte("HTTP/1.0 101")) ||
			bytes.Contains(head, []byte("\r\nConnection: close\r\n")) {
			c.noReuse = true
		}
	}
	if c.ln.closed() {
		// Go answers with Connection: close once its server shuts down.
		c.noReuse = true
	}
	c.written, c.readSince = true, false
	c.replay, c.overrun = c.replay[:0], false
	switch c.phase {
	case 0:
		c.phase = 1
	case 2:
		c.answered()
	}
	return true
}

// answered ends the connection's pending state; c.mu is held.
func (c *handoffConn) answered() {
	if c.pending {
		c.pending = false
		c.ln.sock.addPending(c.ln, -1)
	}
}

// SetDeadline: net/http calls it (with a zero time) only when it gives the
// connection to a handler (Hijack); such a connection is never handed over.
func (c *handoffConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	if t.IsZero() {
		c.noReuse = true
	}
	live := c.state == connLive
	c.mu.Unlock()
	if !live {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline is ignored once the connection is being handed over.
func (c *handoffConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	live := c.state == connLive
	c.mu.Unlock()
	if !live {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

// canHandOver: the server is shutting down and the connection is at a point
// where another server can take it: nothing answered yet, or a plain HTTP/1.1
// connection between requests. c.mu is held.
func (c *handoffConn) canHandOver() bool {
	if !c.ln.closed() || c.overrun || c.noReuse {
		return false
	}
	return !c.written || c.kind == kindHTTP1
}

// Close closes the connection, or hands it to the newest server when its
// server is shutting down and nothing would be lost.
func (c *handoffConn) Close() error {
	c.mu.Lock()
	if c.state != connLive {
		c.mu.Unlock()
		return nil
	}
	c.answered()
	if !c.canHandOver() {
		c.state = connClosed
		c.mu.Unlock()
		return c.Conn.Close()
	}
	c.state = connHanding
	c.mu.Unlock()
	// Stop a Read in progress (net/http closes idle connections from
	// another goroutine), and keep what it returns.
	_ = c.Conn.SetReadDeadline(aLongTimeAgo)
	c.mu.Lock()
	for c.reading {
		c.cond.Wait()
	}
	c.state = connClosed
	ok := !c.overrun
	prefix := append(append([]byte(nil), c.replay...), c.prefix...)
	c.mu.Unlock()
	if !ok {
		return c.Conn.Close()
	}
	_ = c.Conn.SetDeadline(time.Time{})
	go c.ln.sock.dispatch(c.Conn, prefix)
	return nil
}

// CloseWrite half-closes the socket (net/http does before closing after an
// oversized request body); such a connection is never handed over.
func (c *handoffConn) CloseWrite() error {
	c.mu.Lock()
	c.noReuse = true
	c.mu.Unlock()
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
