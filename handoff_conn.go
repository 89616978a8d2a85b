package caddydjango

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// maxReplay bounds what a connection keeps of the bytes its server read
// since it last wrote; a request larger than this is never handed over.
const maxReplay = 64 << 10

// shutdownWindow bounds how long a connection closed by an old server whose
// listener is still open waits for that listener to close (see Close).
const shutdownWindow = time.Second

// handoffConn is a connection as one config's server sees it. It remembers
// what the server read since it last wrote, so that when a shutting-down
// server closes the connection without having answered (or between two
// HTTP/1.1 requests), the connection goes to the newest server instead, with
// those bytes replayed.
//
// Reads and writes take no lock: net/http reads a connection from one
// goroutine at a time and writes it from one, and what they share is in
// atomics. Close, when it hands the connection over, interrupts a Read in
// progress and waits for it (and for deadline calls in progress) to end.
// Once the connection can never be handed over (it answered over TLS or
// HTTP/2, was upgraded or hijacked, or will close after its response), it is
// settled: its calls go straight to the socket.
type handoffConn struct {
	net.Conn
	ln *handoffListener

	state atomic.Int32 // connLive, connHanding, connClosed
	busy  atomic.Int32 // Reads and deadline calls in progress

	// Owned by the reading goroutine; Close reads them once busy is 0.
	fresh    bool   // the server has read nothing yet (see firstRead)
	prefix   []byte // bytes to serve before reading the socket
	replay   []byte // bytes read since write number replayAt began
	replayAt uint32
	overrun  bool // replay exceeded maxReplay

	kind     atomic.Int32  // kindUnknown, kindHTTP1, kindOther (TLS, h2c)
	writes   atomic.Uint32 // writes begun (0: the server wrote nothing)
	readAt   atomic.Uint32 // writes+1 at the last read of bytes: the next write starts a response
	noReuse  atomic.Bool   // upgraded, hijacked, or answered with Connection: close
	peerGone atomic.Bool   // a read failed other than by a deadline (EOF, reset)
	refused  atomic.Bool   // its first bytes came after a newer config joined (see firstRead)
	settled  atomic.Bool   // never handed over: calls go straight to the socket

	// A TLS connection handed over before its handshake, when no wrapper
	// after `tls` takes it over, is pending (see handoffSocket.waitOlder)
	// until its server writes after reading what followed its handshake
	// flight.
	pending atomic.Bool
	mu      sync.Mutex
	cond    sync.Cond // on mu: busy dropped to 0 while not live
	phase   int       // on mu: 0: handshake flight not written; 1: written; 2: read after it
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
	hc := &handoffConn{Conn: c, ln: hl, prefix: prefix, fresh: true}
	hc.cond.L = &hc.mu
	return hc
}

// aLongTimeAgo interrupts a blocked Read.
var aLongTimeAgo = time.Unix(1, 0)

// enter counts a Read or deadline call in progress; it reports false (and
// counts nothing) once the connection is closed or being handed over.
func (c *handoffConn) enter() bool {
	c.busy.Add(1)
	if c.state.Load() == connLive {
		return true
	}
	c.leave()
	return false
}

// leave ends what enter began and wakes a Close waiting for it.
func (c *handoffConn) leave() {
	if c.busy.Add(-1) == 0 && c.state.Load() != connLive {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// errRefused is what a Read that refuses to serve a server returns: a read
// error, so that net/http closes the connection without answering (to any
// other error it answers 400 Bad Request).
var errRefused = &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}

// Read serves the replayed prefix first, then the socket.
func (c *handoffConn) Read(p []byte) (int, error) {
	if c.settled.Load() {
		return c.Conn.Read(p)
	}
	if !c.enter() {
		return 0, net.ErrClosed
	}
	defer c.leave()
	if c.fresh {
		return c.firstRead(p)
	}
	if len(c.prefix) > 0 {
		return c.readPrefix(p), nil
	}
	// A shutting-down server would not answer a first request (or finish a
	// TLS handshake): refuse, so that it closes the connection and it is
	// handed over whole.
	if c.writes.Load() == 0 && c.kind.Load() != kindHTTP1 && c.ln.closed() {
		return 0, errRefused
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.record(p[:n])
	}
	c.readFailed(err)
	return n, err
}

// firstRead serves the connection's first bytes (the prefix's, or the
// socket's, however long they take to arrive) only if its config is still
// the address's newest once they are there: a connection handed to the only
// live config before its first bytes arrived (handDirect), or to the newest
// before a newer one joined, must not be served by an old server, which
// would not answer it. Refused, the bytes are kept to be replayed and the
// server closes the connection, which hands it to the newest at once (see
// handOver). The check is one step with counting a TLS ClientHello pending
// (see handoffSocket.claim).
func (c *handoffConn) firstRead(p []byte) (int, error) {
	b := c.prefix
	var err error
	if len(b) == 0 {
		var n int
		n, err = c.Conn.Read(p)
		if n == 0 {
			c.readFailed(err)
			return 0, err
		}
		b = p[:n]
	}
	if !c.ln.sock.claim(c, b[0]) {
		if len(c.prefix) == 0 {
			c.prefix = append([]byte(nil), b...)
		}
		c.refused.Store(true)
		return 0, errRefused
	}
	c.fresh = false
	if len(c.prefix) > 0 {
		return c.readPrefix(p), nil
	}
	c.record(b)
	c.readFailed(err)
	return len(b), err
}

// readPrefix serves the prefix's next bytes into p.
func (c *handoffConn) readPrefix(p []byte) int {
	n := copy(p, c.prefix)
	c.prefix = c.prefix[n:]
	c.record(p[:n])
	return n
}

// readFailed notes a read error other than a deadline's: the peer is gone.
// (A deadline ends net/http's background read after every request: the
// socket's own error is checked before errors.Is walks a chain.)
func (c *handoffConn) readFailed(err error) {
	if err == nil {
		return
	}
	if oe, ok := err.(*net.OpError); ok && oe.Err == os.ErrDeadlineExceeded {
		return
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		c.peerGone.Store(true)
	}
}

// record keeps b for a replay, while a replay can still happen.
func (c *handoffConn) record(b []byte) {
	kind := c.kind.Load()
	if kind == kindUnknown {
		kind = classify(b)
		c.kind.Store(kind)
	}
	w := c.writes.Load()
	c.readAt.Store(w + 1)
	if c.pending.Load() {
		c.mu.Lock()
		if c.phase == 1 {
			c.phase = 2
		}
		c.mu.Unlock()
	}
	if w > 0 && kind != kindHTTP1 {
		return // answered TLS or HTTP/2: never handed over again
	}
	if c.replayAt != w {
		c.replay, c.overrun, c.replayAt = c.replay[:0], false, w
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
func classify(b []byte) int32 {
	if b[0] < 'A' || b[0] > 'Z' || bytes.HasPrefix(b, []byte("PRI ")) {
		return kindOther
	}
	return kindHTTP1
}

// Write notes the response's head before writing.
func (c *handoffConn) Write(p []byte) (int, error) {
	if c.settled.Load() {
		return c.Conn.Write(p)
	}
	if !c.beginWrite(p) {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

// ReadFrom keeps the socket's sendfile/splice path.
func (c *handoffConn) ReadFrom(r io.Reader) (int64, error) {
	if !c.settled.Load() && !c.beginWrite(nil) {
		return 0, net.ErrClosed
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *handoffConn) beginWrite(p []byte) bool {
	if c.state.Load() != connLive {
		return false
	}
	w := c.writes.Add(1) - 1
	// Whether the client may reuse the connection is read from the
	// response's head, not from the server's state: Go composes the head
	// (with Connection: close once its server shuts down) before it writes
	// it, so a head composed just before the shutdown began is written
	// after it without Connection: close, and the client sends its next
	// request on the connection the server then closes: handed over, the
	// newest server answers that request.
	if p != nil && c.readAt.Load() == w+1 && c.kind.Load() == kindHTTP1 && closesConnection(p) {
		c.noReuse.Store(true)
	}
	if c.pending.Load() {
		c.mu.Lock()
		switch c.phase {
		case 0:
			c.phase = 1
		case 2:
			c.answered()
		}
		c.mu.Unlock()
	}
	if c.noReuse.Load() || (c.kind.Load() == kindOther && !c.pending.Load()) {
		c.settled.Store(true)
	}
	return true
}

// closesConnection reports whether the HTTP/1 response starting with p
// ends its connection's reuse: a protocol switch, a Connection header with
// the close token in the head's part p holds, or an HTTP/1.0 response
// without Connection: keep-alive there (its body may end with the
// connection). It walks the head's lines (a response's first write holds
// its head; the body is not read).
func closesConnection(p []byte) bool {
	if bytes.HasPrefix(p, []byte("HTTP/1.1 101")) || bytes.HasPrefix(p, []byte("HTTP/1.0 101")) {
		return true
	}
	http10, keepAlive := bytes.HasPrefix(p, []byte("HTTP/1.0 ")), false
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return http10 && !keepAlive
		}
		p = p[i+1:]
		if len(p) == 0 || p[0] == '\r' {
			return http10 && !keepAlive // the head's end
		}
		if (p[0] == 'C' || p[0] == 'c') && len(p) > len("Connection:") &&
			bytes.EqualFold(p[:len("Connection:")], []byte("Connection:")) {
			value := p[len("Connection:"):]
			if j := bytes.IndexByte(value, '\n'); j >= 0 {
				value = value[:j]
			}
			for _, token := range bytes.Split(value, []byte(",")) {
				switch token = bytes.TrimSpace(token); {
				case bytes.EqualFold(token, []byte("close")):
					return true
				case bytes.EqualFold(token, []byte("keep-alive")):
					keepAlive = true
				}
			}
		}
	}
}

// answered ends the connection's pending state; c.mu is held.
func (c *handoffConn) answered() {
	if c.pending.Load() {
		c.pending.Store(false)
		c.ln.sock.addPending(c.ln, -1)
	}
}

// SetDeadline: net/http calls it (with a zero time) only when it gives the
// connection to a handler (Hijack); such a connection is never handed over.
func (c *handoffConn) SetDeadline(t time.Time) error {
	if t.IsZero() {
		c.noReuse.Store(true)
	}
	return c.setDeadline(c.Conn.SetDeadline, t)
}

// SetReadDeadline is ignored once the connection is being handed over.
func (c *handoffConn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(c.Conn.SetReadDeadline, t)
}

// SetWriteDeadline is ignored once the connection is being handed over.
func (c *handoffConn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(c.Conn.SetWriteDeadline, t)
}

// setDeadline calls set(t) while the connection is live; should a handover
// begin meanwhile, it restores the handover's interruption of reads.
func (c *handoffConn) setDeadline(set func(time.Time) error, t time.Time) error {
	if c.settled.Load() {
		return set(t)
	}
	if !c.enter() {
		return nil
	}
	defer c.leave()
	err := set(t)
	if c.state.Load() != connLive {
		_ = c.Conn.SetReadDeadline(aLongTimeAgo)
	}
	return err
}

// Close closes the connection, or hands it to the newest server when its
// server is shutting down and nothing would be lost: nothing answered yet,
// or a plain HTTP/1.1 connection between requests (with the bytes of a
// request read and not answered).
func (c *handoffConn) Close() error {
	if !c.state.CompareAndSwap(connLive, connHanding) {
		return nil
	}
	if c.pending.Load() {
		c.mu.Lock()
		c.answered()
		c.mu.Unlock()
	}
	if !c.mayHandOver() {
		c.state.Store(connClosed)
		return c.Conn.Close()
	}
	go c.handOver()
	return nil
}

// mayHandOver: the connection is at a point where another server can take
// it, and a newer config's server exists to take it.
func (c *handoffConn) mayHandOver() bool {
	if c.refused.Load() {
		return true
	}
	if c.noReuse.Load() || c.peerGone.Load() || (c.writes.Load() > 0 && c.kind.Load() != kindHTTP1) {
		return false
	}
	return c.ln.closed() || c.ln.sock.newest() != c.ln
}

// handOver gives the connection, with the bytes its server read and did not
// answer, to the newest server, once its own server's listener is closed.
//
// Go's http.Server.Shutdown marks the server as shutting down before it
// closes its listeners; a server that reads a request in between closes the
// connection unanswered, and one that finishes a response in between closes
// it instead of reading the next request. So a connection closed while a
// newer config is live but before its own listener closed waits, at most
// shutdownWindow, for that listener to close: if it does not, the server
// closed it for another reason, and it is closed. One whose first bytes
// were refused (see firstRead) goes at once.
func (c *handoffConn) handOver() {
	refused := c.refused.Load()
	if !refused && !c.ln.closed() {
		t := time.NewTimer(shutdownWindow)
		select {
		case <-c.ln.done:
		case <-t.C:
		}
		t.Stop()
	}
	// Stop a Read in progress (net/http closes idle connections from
	// another goroutine), and keep what it returns.
	_ = c.Conn.SetReadDeadline(aLongTimeAgo)
	c.mu.Lock()
	for c.busy.Load() != 0 {
		c.cond.Wait()
	}
	c.mu.Unlock()
	c.state.Store(connClosed)
	w := c.writes.Load()
	if (!refused && !c.ln.closed()) || c.peerGone.Load() || (c.overrun && c.replayAt == w) {
		_ = c.Conn.Close()
		return
	}
	var prefix []byte
	if c.replayAt == w {
		prefix = append(prefix, c.replay...)
	}
	prefix = append(prefix, c.prefix...)
	_ = c.Conn.SetDeadline(time.Time{})
	c.ln.sock.dispatch(c.Conn, prefix)
}

// CloseWrite half-closes the socket (net/http does before closing after an
// oversized request body); such a connection is never handed over.
func (c *handoffConn) CloseWrite() error {
	c.noReuse.Store(true)
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
