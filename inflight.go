package caddydjango

import (
	"sync"
	"sync/atomic"
)

// requestGate holds back the release of what a request may still reach
// after Django answers (the file roots' directory handles, the registered
// filesystems, the remote-file client) until the last request in flight
// has ended. On a config reload Caddy does not wait for the old config's
// requests: it starts the old servers' Shutdown without waiting for it and
// cleans the old modules up at once (caddyhttp.App.Stop waits only when
// the process exits), while a request may still be waiting for Django. A
// protected file named by that answer (X-Accel-Redirect) was then looked
// up in a closed directory: a 404 (found by bench/soak, 3 of ~16,000
// protected downloads in 30 minutes; test TestProtectedAnswerAcrossReload).
type requestGate struct {
	n       atomic.Int64
	closed  atomic.Bool
	once    sync.Once
	release func()
}

func (g *requestGate) enter() { g.n.Add(1) }

func (g *requestGate) leave() {
	if g.n.Add(-1) == 0 && g.closed.Load() {
		g.once.Do(g.release)
	}
}

// close runs release now if no request is in flight (or g is nil: the
// handler was never provisioned), else when the last one leaves. It is
// called once.
func (g *requestGate) close(release func()) {
	if g == nil {
		release()
		return
	}
	g.release = release // published by the store below
	g.closed.Store(true)
	if g.n.Load() == 0 {
		g.once.Do(release)
	}
}
