package caddydjango

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// Switching django_files from one generation of an app server to the next.
//
// Most app servers close, when their graceful stop begins, the connections
// they have accepted but not read a request from yet (uvicorn's
// Server.shutdown, hypercorn, daphne, Gunicorn's UvicornWorker). On the
// held socket, shared by the old and the new generation, a request Caddy
// sends just as the old one stops is lost (a 502 for a POST, which no proxy
// may retry). So every app server gets a second socket (fd 4; uvicorn
// through uvicorn_sockets.py), one of its own per generation (the process
// started for a restart, a deploy or a reload; kept across its
// crash-restarts, so connections wait in its backlog, except when the
// killed master's workers still serve it: keepOrphans), and django_files
// dials that socket of the newest generation that serves: once a new
// generation is RUNNING, new requests go to it, and the old one is told to
// stop only when every answer it was sending is complete (leases), so it
// has nothing unread to close and nothing half sent to cut (daphne's stop cancels every application instance; uWSGI's
// and hypercorn's workers die at once on a stop signal of their own). An
// upgraded connection or an event stream (text/event-stream), open-ended,
// counts as done once it begins: the server's own graceful stop ends it.
// The held socket (fd 3) still serves the bind for other clients.

// upstreamVar is the request variable that holds the address django_files
// dials for a switched app server.
const upstreamVar = "django_upstream"

// switchesUpstream reports whether django_files dials the named app
// server's generations (it serves fd 4) rather than its bind.
func (a *App) switchesUpstream(name string) bool {
	s := a.appServerSpec(name)
	return s != nil && s.OwnFD
}

// genSocket is one generation's own listening socket (fd 4), also its
// readiness probe's address: a unix socket in a private directory (or,
// for daphne, a loopback TCP port).
type genSocket struct {
	ln net.Listener
	// addr is the address to dial, as reverse_proxy writes it:
	// "unix//DIR/socket" or "127.0.0.1:PORT".
	addr string
	// A unix socket is bound at dir/bound and dialed at dir/socket (see
	// listenUnixLinked); bound is restored before each launch (restore).
	dir string
	// lock is dir's lock file, held while the generation lives (gendir.go).
	lock *os.File
	// leases counts requests django_files sent to it whose answer is not
	// complete (appServerLease).
	leases atomic.Int64
}

// upstreams maps an app server's bind to the genSocket of its newest
// serving generation (absent: django_files dials the bind).
var upstreams sync.Map // bindAddr → *genSocket

// ownSocket returns a duplicate of p's generation socket for a child
// process (made on p's first launch) and its address.
func ownSocket(p *process) (*os.File, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen == nil {
		sweepGenDirs(p.log())
		g, err := listenGeneration(p.spec.User, serverKinds[p.spec.serverWord()].tcpOnly)
		if err != nil {
			return nil, "", fmt.Errorf("the generation's own socket: %v", err)
		}
		p.gen = g
	}
	p.gen.restore()
	f, err := fileOf(p.gen.ln)
	return f, p.gen.addr, err
}

// listenGeneration makes a generation socket: a unix socket in a new
// private directory (makeGenDir; owned by user, when the server runs as
// another user, so that it can unlink the name it was bound at). Over a
// unix socket, the new connection django_files opens per request costs
// Caddy and the server less than over loopback TCP (Gunicorn's sync workers: about a fifth more
// requests per second), and the socket is private to the directory's owner.
// With tcp (a server that adopts TCP sockets only), a loopback TCP port.
func listenGeneration(user string, tcp bool) (*genSocket, error) {
	if tcp {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		return &genSocket{ln: ln, addr: ln.Addr().String()}, nil
	}
	dir, lock, err := makeGenDir()
	if err != nil {
		return nil, err
	}
	g := &genSocket{dir: dir, lock: lock, addr: "unix/" + filepath.Join(dir, "socket")}
	err = chownTo(dir, user)
	if err == nil {
		g.ln, err = listenUnixLinked(filepath.Join(dir, "bound"), filepath.Join(dir, "socket"))
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		_ = lock.Close()
		return nil, err
	}
	return g, nil
}

// restore gives a unix generation socket back the name it was bound at,
// which the server unlinked when it stopped (a crash-restart reuses the
// socket, and the next server unlinks it in turn).
func (g *genSocket) restore() {
	if g.dir == "" {
		return
	}
	relinkUnix(filepath.Join(g.dir, "bound"), filepath.Join(g.dir, "socket"))
}

// close closes the socket and removes its directory.
func (g *genSocket) close() {
	_ = g.ln.Close()
	if g.dir != "" {
		_ = os.RemoveAll(g.dir)
		_ = g.lock.Close()
	}
}

// generation returns p's generation socket, or nil.
func (p *process) generation() *genSocket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// switchTo sends django_files' new requests for p's bind to p (it serves).
func switchTo(p *process) {
	if g := p.generation(); g != nil {
		upstreams.Store(p.spec.Bind, g)
	}
}

// drainLeases stops sending p new requests (they go to the bind, where
// they wait while p is STOPPING, or to a newer generation) and waits, at
// most until deadline, until every answer to a request sent to it is
// complete.
func drainLeases(p *process, pid int, deadline time.Time) {
	if g := p.generation(); g != nil {
		g.drain(p, pid, deadline)
	}
}

// drain stops sending g new requests and waits, at most until deadline,
// until every answer to a request sent to it is complete.
func (g *genSocket) drain(p *process, pid int, deadline time.Time) {
	upstreams.CompareAndDelete(p.spec.Bind, g)
	if n := g.leases.Load(); n > 0 {
		p.log().Info("waiting for answers in progress before stopping", zap.Int("pid", pid),
			zap.Int64("requests", n), zap.Duration("at_most", time.Until(deadline).Round(time.Second)))
	}
	for g.leases.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := g.leases.Load(); n > 0 {
		p.log().Warn("stopping with answers not complete yet", zap.Int("pid", pid), zap.Int64("requests", n))
	}
}

// keepOrphans handles the workers that outlive their killed master (a
// SIGKILL, a crash), for a server whose workers serve on and cannot be
// stopped without losing requests (spec.orphansServe: hypercorn's die at
// once on their stop signal, uvicorn's close what they accepted and did
// not read). Rather than cut their requests short, the next launch gets a
// generation socket of its own, the workers keep theirs (django_files keeps
// sending them requests until the new master serves), and they are stopped
// once a newer generation serves and their answers are complete
// (retireOrphans). It reports whether it took them over; uWSGI's workers
// end themselves when their master is gone, and Gunicorn's finish their
// request on its stop signal (recordExit sends it).
func (p *process) keepOrphans(inst *instance) bool {
	if !p.spec.orphansServe() || !groupAlive(inst.pid) {
		return false
	}
	p.mu.Lock()
	g := p.gen
	p.gen = nil
	p.mu.Unlock()
	if g == nil {
		return false
	}
	p.log().Warn("its workers outlived it; they serve until a new one does", zap.Int("pgid", inst.pid))
	p.orphans.Add(1)
	go p.retireOrphans(inst, g)
	return true
}

// retireOrphans waits until a newer generation serves (or p stops, or gives
// up: FATAL, or after its ready timeout and stop timeout), waits for the
// answers the orphaned workers of inst are sending, then stops them and
// closes their generation socket g.
func (p *process) retireOrphans(inst *instance, g *genSocket) {
	defer p.orphans.Done()
	defer g.close()
	until := time.Now().Add(p.spec.StartSecs + p.spec.ReadyTimeout + p.spec.StopTimeout)
	for groupAlive(inst.pid) && !p.stopping() && time.Now().Before(until) {
		state, _ := p.snapshot()
		if cur, ok := upstreams.Load(p.spec.Bind); !ok || cur != g || state == StateFatal {
			break
		}
		time.Sleep(groupPollInterval)
	}
	g.drain(p, inst.pid, time.Now().Add(p.spec.StopTimeout/2))
	sig, _ := parseSignal(p.spec.StopSignal)
	_ = signalGroup(inst.pid, sig)
	if !waitGroupGone(inst, time.Now().Add(p.spec.StopTimeout)) {
		_ = killGroup(inst.pid)
	}
}

// closeOwnSocket closes p's generation socket once p is done.
func closeOwnSocket(p *process) {
	if g := p.generation(); g != nil {
		upstreams.CompareAndDelete(p.spec.Bind, g)
		g.close()
	}
}

// appServerLease is a request django_files sends to an app server
// generation's own socket, until its answer is complete (release), or
// has begun for an open-ended one (see leaseWriter).
type appServerLease struct {
	g        *genSocket
	released atomic.Bool
}

// leaseAppServer returns the address to dial for the app server on bind
// (fallback: its upstream on the bind) and a lease on it, nil when that is
// the bind.
func leaseAppServer(bind bindAddr, fallback string) (string, *appServerLease) {
	for {
		v, ok := upstreams.Load(bind)
		if !ok {
			return fallback, nil
		}
		g := v.(*genSocket)
		g.leases.Add(1)
		if cur, _ := upstreams.Load(bind); cur == v { // before any switch away from g
			return g.addr, &appServerLease{g: g}
		}
		g.leases.Add(-1)
	}
}

// release ends the lease (once; nil-safe).
func (l *appServerLease) release() {
	if l != nil && l.released.CompareAndSwap(false, true) {
		l.g.leases.Add(-1)
	}
}

// writer returns w, wrapped so that the lease of an open-ended answer (an
// upgrade, an event stream) ends when it begins; any other ends with the
// request (release, deferred by serveProxy).
func (l *appServerLease) writer(w http.ResponseWriter) http.ResponseWriter {
	if l == nil {
		return w
	}
	return &leaseWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, lease: l}
}

// leaseWriter ends its lease when an open-ended answer begins.
type leaseWriter struct {
	*caddyhttp.ResponseWriterWrapper
	lease *appServerLease
}

func (w *leaseWriter) WriteHeader(code int) {
	if openEnded(code, w.Header()) {
		w.lease.release()
	}
	w.ResponseWriterWrapper.WriteHeader(code)
}

// openEnded reports whether an answer lasts as long as the client or the
// app wants: a protocol switch (websocket) or an event stream.
func openEnded(code int, h http.Header) bool {
	if code == http.StatusSwitchingProtocols {
		return true
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

// Interface guards
var _ http.ResponseWriter = (*leaseWriter)(nil)
