package caddydjango

import (
	"crypto/tls"
	"errors"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(new(Handoff))
}

// Handoff is a listener wrapper (`django_handoff`) that makes config reloads
// invisible to clients. Caddy binds a new SO_REUSEPORT socket for every config
// and closes the old one, which resets the connections queued in it, and an
// old server closes unanswered a request it reads after its shutdown began.
// With this wrapper, placed before `tls`:
//
//   - on Linux, per address, one socket per CPU is bound beside Caddy's, with
//     SO_REUSEPORT and SO_INCOMING_CPU, and kept for as long as any config
//     uses the address: the kernel (6.2 and later) then gives every new
//     connection to one of them, so the sockets Caddy binds per config receive
//     none and are closed without resetting any;
//   - a new connection goes to the newest config's server: at once while one
//     config is live, once its first bytes have arrived during a reload; a
//     server whose config is no longer the newest when the connection's first
//     bytes arrive refuses them, and the connection goes, bytes and all, to
//     the newest: an old server never reads a connection's first request;
//   - a connection an old server closes while shutting down, before it answered
//     anything (or, for plain HTTP/1.1, between two requests), is handed to the
//     newest server with the bytes the old one read but did not answer.
//
// Placed again after `tls`, it does the same for the *tls.Conn of an idle
// HTTP/1.1-over-TLS connection (HTTP/2 ones pass through). Enable it in the
// global options:
//
//	servers {
//		listener_wrappers {
//			django_handoff
//			tls
//			django_handoff
//		}
//	}
type Handoff struct {
	// During a reload (more than one config live), how long to wait for a
	// new connection's first bytes before handing it to the newest server
	// anyway. Default: 10s.
	FirstByteWait caddy.Duration `json:"first_byte_wait,omitempty"`

	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (*Handoff) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.listeners.django_handoff",
		New: func() caddy.Module { return new(Handoff) },
	}
}

// Provision sets defaults.
func (h *Handoff) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.FirstByteWait == 0 {
		h.FirstByteWait = caddy.Duration(10 * time.Second)
	}
	return nil
}

// UnmarshalCaddyfile sets up the wrapper from Caddyfile tokens:
//
//	django_handoff {
//		first_byte_wait <duration>
//	}
func (h *Handoff) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the wrapper's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "first_byte_wait":
			if !d.NextArg() {
				return d.ArgErr()
			}
			dur, err := caddy.ParseDuration(d.Val())
			if err != nil || dur <= 0 {
				return d.Errf("first_byte_wait: want a positive duration, got %q", d.Val())
			}
			h.FirstByteWait = caddy.Duration(dur)
			if d.NextArg() {
				return d.ArgErr()
			}
		default:
			return d.Errf("django_handoff: unknown option %q", d.Val())
		}
	}
	return nil
}

// WrapListener takes ln (a socket Caddy just bound for this config) and
// returns a listener that receives the connections of the address's shared
// socket. Placed after `tls` (ln is a TLS listener), it returns a listener
// that hands idle HTTP/1.1-over-TLS connections across configs instead.
func (h *Handoff) WrapListener(ln net.Listener) net.Listener {
	if _, ok := ln.(*handoffListener); ok {
		// After the placeholder of a server without TLS: already wrapped.
		return ln
	}
	if t := reflect.TypeOf(ln); t != nil && t.Kind() == reflect.Pointer && t.Elem().PkgPath() == "crypto/tls" {
		hl, _ := registerHandoff(ln, time.Duration(h.FirstByteWait), h.logger, true)
		return hl
	}
	return joinHandoff(ln, time.Duration(h.FirstByteWait), h.logger)
}

// handoffSocket is one address's kernel socket(s) and the live configs'
// listeners on it, oldest first.
type handoffSocket struct {
	key    string
	kept   []net.Listener // the sockets kept across configs
	tls    bool           // after `tls`: the connections are *tls.Conn
	logger *zap.Logger

	mu      sync.Mutex
	changed sync.Cond // on mu: a pending count went down
	configs []*handoffListener
}

var (
	handoffMu      sync.Mutex
	handoffSockets = map[string]*handoffSocket{}
)

// joinHandoff registers ln's config as the newest on ln's address; when
// older configs are still serving it, it waits for their pending TLS
// requests (see waitOlder).
func joinHandoff(ln net.Listener, wait time.Duration, logger *zap.Logger) *handoffListener {
	hl, older := registerHandoff(ln, wait, logger, false)
	if older {
		start := time.Now()
		if n := hl.sock.waitOlder(hl, pendingBound); n > 0 {
			hl.sock.logger.Warn("django_handoff: older servers still have TLS requests to answer; starting anyway",
				zap.String("address", hl.sock.key), zap.Int("requests", n), zap.Duration("waited", time.Since(start)))
		} else {
			hl.sock.logger.Debug("django_handoff: older servers answered their TLS requests",
				zap.String("address", hl.sock.key), zap.Duration("waited", time.Since(start)))
		}
	}
	return hl
}

// registerHandoff adds a listener for ln's config to ln's address (binding
// the kept sockets the first time, unless afterTLS: then ln is the config's
// TLS listener, and its connections are shared among the configs' servers
// after `tls`) and reports whether older configs use it.
func registerHandoff(ln net.Listener, wait time.Duration, logger *zap.Logger, afterTLS bool) (*handoffListener, bool) {
	if logger == nil {
		logger = zap.NewNop()
	}
	key := ln.Addr().Network() + "/" + ln.Addr().String()
	if afterTLS {
		key = "tls+" + key
	}
	handoffMu.Lock()
	defer handoffMu.Unlock()
	hl := &handoffListener{ch: make(chan net.Conn), done: make(chan struct{}), wait: wait, addr: ln.Addr(), own: ln}
	s := handoffSockets[key]
	if s == nil {
		s = &handoffSocket{key: key, logger: logger, tls: afterTLS}
		s.changed.L = &s.mu
		var steered []net.Listener
		var err error
		if !afterTLS {
			steered, err = listenSteered(ln.Addr())
		}
		if err != nil {
			logger.Warn("django_handoff: cannot steer new connections to sockets kept across configs; a reload may reset connections queued in the socket it closes",
				zap.String("address", key), zap.Error(err))
			s.kept, hl.own = []net.Listener{ln}, nil
		} else {
			s.kept = steered
		}
		for _, k := range s.kept {
			go s.acceptLoop(k)
		}
		handoffSockets[key] = s
	}
	if hl.own != nil {
		// Steered away from, this socket gets no connection; accept from
		// it anyway (connections it got before the steering began).
		go s.acceptLoop(ln)
	}
	hl.sock = s
	s.mu.Lock()
	s.configs = append(s.configs, hl)
	older := len(s.configs) > 1
	s.mu.Unlock()
	return hl, older
}

// pendingBound bounds how long a new config's start waits for the TLS
// requests older servers have not answered yet (a client that completed a
// handshake and sends nothing, such as a browser's preconnection, would
// hold it that long).
const pendingBound = 2 * time.Second

// claim reports whether c's config is still the address's newest live one,
// as c's server is about to read c's first bytes (first is the first one).
// A TLS ClientHello (on a wrapper before `tls`) is pending on that config
// from then on: counted under the same lock as the check, so a config that
// joins later sees it in waitOlder, and one that joined earlier is seen here.
func (s *handoffSocket) claim(c *handoffConn, first byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.configs)
	if n == 0 || s.configs[n-1] != c.ln || c.ln.closed() {
		return false
	}
	if !s.tls && first == tlsHandshakeRecord {
		c.pending.Store(true)
		c.ln.pending++
	}
	return true
}

// newest returns the most recently started live listener, or nil.
func (s *handoffSocket) newest() *handoffListener {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.configs); n > 0 {
		return s.configs[n-1]
	}
	return nil
}

// leave removes hl; the last one to leave closes the shared socket.
func (s *handoffSocket) leave(hl *handoffListener) {
	if hl.own != nil {
		// Not under handoffMu: after `tls`, own closes a listener before it.
		defer hl.own.Close()
	}
	handoffMu.Lock()
	defer handoffMu.Unlock()
	s.mu.Lock()
	for i, c := range s.configs {
		if c == hl {
			s.configs = append(s.configs[:i], s.configs[i+1:]...)
			break
		}
	}
	last := len(s.configs) == 0
	s.mu.Unlock()
	if last {
		delete(handoffSockets, s.key)
		for _, k := range s.kept {
			_ = k.Close()
		}
	}
}

func (s *handoffSocket) acceptLoop(ln net.Listener) {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.logger.Error("django_handoff: accept", zap.String("address", s.key), zap.Error(err))
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !s.handDirect(c) {
			go s.dispatch(c, nil)
		}
	}
}

// handDirect hands a new connection straight to the address's only live
// config, before its first bytes arrive, and reports whether it did. It
// does not while a reload is in progress (more than one config is live: a
// new connection then goes to dispatch, which waits for its first bytes),
// nor after `tls` (the handshake is dispatch's). The connection itself
// refuses its first bytes should a newer config join before they are read
// (see handoffConn.firstRead).
func (s *handoffSocket) handDirect(c net.Conn) bool {
	if s.tls {
		return false
	}
	s.mu.Lock()
	var hl *handoffListener
	if len(s.configs) == 1 {
		hl = s.configs[0]
	}
	s.mu.Unlock()
	if hl == nil {
		return false
	}
	select {
	case hl.ch <- newHandoffConn(c, hl, nil):
		return true
	case <-hl.done:
		return false
	}
}

// dispatch hands c to the newest live listener; prefix is what an older
// server read from c without answering it.
func (s *handoffSocket) dispatch(c net.Conn, prefix []byte) {
	if s.tls {
		s.dispatchTLS(c, prefix)
		return
	}
	if len(prefix) == 0 {
		if hl := s.newest(); hl != nil {
			waitReadable(c, hl.wait)
		}
	}
	s.deliver(c, func(hl *handoffListener) net.Conn { return newHandoffConn(c, hl, prefix) })
}

// dispatchTLS hands a *tls.Conn to the newest live listener after `tls`:
// an HTTP/2 one as it is (net/http serves HTTP/2 only on a *tls.Conn, and
// its connections are never closed idle during a shutdown), any other
// wrapped, so that an old server closing it idle hands it over.
func (s *handoffSocket) dispatchTLS(c net.Conn, prefix []byte) {
	tc, ok := c.(*tls.Conn)
	if !ok || tc.ConnectionState().NegotiatedProtocol == "h2" {
		s.deliver(c, nil)
		return
	}
	if !tc.ConnectionState().HandshakeComplete {
		_ = tc.SetDeadline(time.Now().Add(handshakeBound))
		err := tc.Handshake()
		_ = tc.SetDeadline(time.Time{})
		if err != nil {
			s.logger.Debug("django_handoff: TLS handshake", zap.String("address", s.key), zap.Error(err))
			_ = tc.Close()
			return
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			s.deliver(c, nil)
			return
		}
	}
	s.deliver(c, func(hl *handoffListener) net.Conn {
		return tlsHandoffConn{newHandoffConn(c, hl, prefix)}
	})
}

// handshakeBound bounds a new TLS connection's handshake after `tls`.
const handshakeBound = 10 * time.Second

// deliver hands c (wrapped by wrap, if set) to the newest live listener.
func (s *handoffSocket) deliver(c net.Conn, wrap func(*handoffListener) net.Conn) {
	for {
		hl := s.newest()
		if hl == nil {
			_ = c.Close()
			return
		}
		hc := c
		if wrap != nil {
			hc = wrap(hl)
		}
		select {
		case hl.ch <- hc:
			return
		case <-hl.done:
		}
	}
}

// tlsHandoffConn is a handed-over TLS connection as net/http sees it: Caddy
// restores the request's TLS state from ConnectionState.
type tlsHandoffConn struct{ *handoffConn }

// ConnectionState returns the TLS connection's state.
func (c tlsHandoffConn) ConnectionState() tls.ConnectionState {
	return c.Conn.(*tls.Conn).ConnectionState()
}

// tlsHandshakeRecord is the first byte of a TLS ClientHello.
const tlsHandshakeRecord = 0x16

// addPending counts the TLS connections handed to hl whose first request
// has not been answered yet.
func (s *handoffSocket) addPending(hl *handoffListener, delta int) {
	s.mu.Lock()
	hl.pending += delta
	s.mu.Unlock()
	if delta < 0 {
		s.changed.Broadcast()
	}
}

// waitOlder waits, at most bound, until no listener older than hl has a TLS
// connection whose first request is not answered. Once a TLS handshake has
// been answered, the connection cannot move to another server; an old
// server closes unanswered a request it reads after its shutdown began, and
// Caddy stops the old config as soon as the new one has started: holding
// the new config's start until these requests are answered keeps them.
// With the wrapper after `tls` too the handshake is not the server's, but
// the wait stays: without it, TestReloadLosesNothingTLS lost a new
// connection (reset) in 3 of 10 runs, and it costs little (reloads under 8
// clients opening a new HTTPS connection per request took 10–150 ms).
// It returns how many are still pending.
func (s *handoffSocket) waitOlder(hl *handoffListener, bound time.Duration) int {
	timer := time.AfterFunc(bound, func() {
		s.mu.Lock()
		hl.waitOver = true
		s.mu.Unlock()
		s.changed.Broadcast()
	})
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		n := 0
		for _, c := range s.configs {
			if c == hl {
				break
			}
			n += c.pending
		}
		if n == 0 || hl.waitOver {
			return n
		}
		s.changed.Wait()
	}
}

// handoffListener is what one config's server accepts from.
type handoffListener struct {
	sock *handoffSocket
	own  net.Listener // the socket Caddy bound for this config, unless it is kept
	addr net.Addr
	wait time.Duration
	ch   chan net.Conn
	done chan struct{}
	once sync.Once

	pending  int  // on sock.mu: see addPending
	waitOver bool // on sock.mu: see waitOlder
}

// Accept returns the next connection handed to this config.
func (hl *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-hl.ch:
		return c, nil
	case <-hl.done:
		return nil, net.ErrClosed
	}
}

// Close ends this config's share of the socket; Caddy calls it when the
// config's server shuts down.
func (hl *handoffListener) Close() error {
	hl.once.Do(func() {
		close(hl.done)
		hl.sock.leave(hl)
	})
	return nil
}

// Addr returns the socket's address.
func (hl *handoffListener) Addr() net.Addr { return hl.addr }

func (hl *handoffListener) closed() bool {
	select {
	case <-hl.done:
		return true
	default:
		return false
	}
}

// Interface guards
var (
	_ caddy.Provisioner     = (*Handoff)(nil)
	_ caddy.ListenerWrapper = (*Handoff)(nil)
	_ caddyfile.Unmarshaler = (*Handoff)(nil)
	_ net.Listener          = (*handoffListener)(nil)
)
