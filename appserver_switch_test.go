package caddydjango

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
)

// A generation's requests are leased until their answer is complete (an
// open-ended one, an upgrade or an event stream, until it begins); a newer
// generation takes the new requests at once, and the old one's drain waits
// for its leases only.
func TestAppServerSwitchLeases(t *testing.T) {
	bind := bindAddr{"tcp", "127.0.0.1:1"}
	gen := func(addr string) *process {
		p := newProcess(&spec{Name: "web", Bind: bind, StopTimeout: time.Second}, zap.NewNop())
		p.gen = &genSocket{addr: addr}
		return p
	}
	old, next := gen("127.0.0.1:2"), gen("127.0.0.1:3")
	defer upstreams.Delete(bind)

	if addr, l := leaseAppServer(bind, "bind"); addr != "bind" || l != nil {
		t.Fatalf("before any generation serves: %q %v, want the bind and no lease", addr, l)
	}
	switchTo(old)
	addr, inFlight := leaseAppServer(bind, "bind")
	if addr != "127.0.0.1:2" || old.gen.leases.Load() != 1 {
		t.Fatalf("lease: %q, %d leases", addr, old.gen.leases.Load())
	}
	switchTo(next)
	if addr, l := leaseAppServer(bind, "bind"); addr != "127.0.0.1:3" {
		t.Fatalf("after the switch: %q", addr)
	} else {
		l.release()
	}

	// two open-ended answers, leased before the switch: done when they begin
	for _, contentType := range []string{"", "text/event-stream; charset=utf-8"} {
		switchTo(old)
		_, l := leaseAppServer(bind, "bind")
		rec := httptest.NewRecorder()
		w := l.writer(rec)
		code := http.StatusSwitchingProtocols
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
			code = http.StatusOK
		}
		w.WriteHeader(code)
		if n := old.gen.leases.Load(); n != 1 {
			t.Fatalf("a %d %q answer that began left %d leases, want the first request's only", code, contentType, n)
		}
	}
	switchTo(next)

	drained := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		drainLeases(old, 1, start.Add(30*time.Second))
		drained <- time.Since(start)
	}()
	w := inFlight.writer(httptest.NewRecorder())
	w.WriteHeader(http.StatusOK) // the answer begins: the old generation may still cut it
	_, _ = w.Write([]byte("half"))
	select {
	case <-drained:
		t.Fatal("the drain ended with an answer not complete yet")
	case <-time.After(50 * time.Millisecond):
	}
	inFlight.release() // the answer is complete (serveProxy returned)
	inFlight.release() // and a second release changes nothing
	if took := <-drained; took > 10*time.Second {
		t.Errorf("drain took %s", took)
	}
	if n := old.gen.leases.Load(); n != 0 {
		t.Errorf("%d leases left", n)
	}
	if v, _ := upstreams.Load(bind); v != next.gen {
		t.Error("the old generation's drain switched requests away from the new one")
	}
}

// A generation's unix socket survives its server unlinking the name it was
// bound at (Gunicorn and Twisted do when they stop; a crash-restart of the
// generation reuses the socket), is private to its owner, and leaves
// nothing behind.
func TestGenerationUnixSocket(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	g, err := listenGeneration("", false)
	if err != nil {
		t.Fatal(err)
	}
	network, path := dialAddress(g.addr)
	if network != "unix" {
		t.Fatalf("generation socket %q: want a unix socket", g.addr)
	}
	if fi, err := os.Stat(g.dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory %s: %v %v, want mode 0700", g.dir, fi.Mode(), err)
	}
	dial := func() error {
		c, err := net.DialTimeout(network, path, 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	// the server's unlink at stop, as Gunicorn's close_sockets does it
	bound := filepath.Join(g.dir, "bound")
	if err := os.Remove(bound); err != nil {
		t.Fatal(err)
	}
	if err := dial(); err != nil {
		t.Fatalf("after the server unlinked its name: %v", err)
	}
	g.restore() // the next launch
	if _, err := os.Lstat(bound); err != nil {
		t.Fatalf("the name the next server unlinks: %v", err)
	}
	g.close()
	if _, err := os.Stat(g.dir); !os.IsNotExist(err) {
		t.Fatalf("after close: %s still there (%v)", g.dir, err)
	}

	tg, err := listenGeneration("", true)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.close()
	if n, _ := dialAddress(tg.addr); n != "tcp" || tg.dir != "" {
		t.Fatalf("tcp generation: %q in %q", tg.addr, tg.dir)
	}
}
