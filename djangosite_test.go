package caddydjango

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// The harness for end-to-end tests of the django app with real Gunicorn
// serving the demo Django project through a real Caddy, and the load that
// counts failed requests while Gunicorn is restarted or replaced.

type djangoSite struct {
	*caddyProc
	project *djangoProject
	gport   int // Gunicorn's bind port (the socket Caddy holds)
	hport   int // Caddy's site
	admin   string
}

// djangoConfig renders a Caddyfile for the demo project. extra goes into the
// django block; gunicornExtra into the gunicorn block.
func (s *djangoSite) config(admin string, workers int, gunicornExtra, extra, site string) string {
	django := fmt.Sprintf(`
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			workers %d
			%s
		}
		%s`, s.project.Root, systemGunicorn, s.gport, workers, gunicornExtra, extra)
	if site == "" {
		site = "django_files"
	}
	return globalBlock(admin, django) + fmt.Sprintf("\n:%d {\n\t%s\n}\n", s.hport, site)
}

// startDjangoSite runs Caddy for a new copy of the demo project (see
// config) and returns once Gunicorn is RUNNING.
func startDjangoSite(t *testing.T, workers int, gunicornExtra, extra string) *djangoSite {
	t.Helper()
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return s.config(admin, workers, gunicornExtra, extra, "")
	})
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	return s
}

// launchDjangoSite runs Caddy for project d with the Caddyfile that mk
// renders for the site (its ports are set) and the admin address, and
// returns at once: Gunicorn may still be starting.
func launchDjangoSite(t *testing.T, d *djangoProject, mk func(s *djangoSite, admin string) string) *djangoSite {
	t.Helper()
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return mk(s, admin)
	}, d.Env...)
	return s
}

// upstreamConns counts the connections open to Gunicorn's serving
// generation: to its own socket (ProcessStatus.Socket), where django_files
// sends requests, a unix socket.
func (s *djangoSite) upstreamConns() int { return len(s.upstreamSockets()) }

// upstreamSockets returns the inodes of the connections Gunicorn accepted
// on its generation's own socket.
func (s *djangoSite) upstreamSockets() map[string]bool {
	s.t.Helper()
	st := s.statuses()[gunicornName]
	network, path := dialAddress(st.Socket)
	if network != "unix" {
		s.t.Fatalf("gunicorn has no unix socket of its own: %+v", st)
	}
	// accepted connections carry the name the socket was bound at
	return connectedUnix(filepath.Join(filepath.Dir(path), "bound"))
}

func (s *djangoSite) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", s.hport, path)
}

// load hammers url with 4 clients until stop is called, then reports the
// number of requests and of failures. Like the baseline measurement (Python
// urllib), each request uses a new connection.
//
// Two kinds of failure are told apart. An HTTP answer other than 200 means
// the request reached Caddy and Django failed it: always counted. A
// connection reset or closed before any answer is Caddy's front end: on
// every config reload Caddy 2.11 binds a new SO_REUSEPORT socket for its
// sites and closes the old one, and connections still queued in the old
// socket's backlog are reset (and Go's net/http closes, unanswered, a
// connection whose request it reads after shutdown began). That happens
// with a plain `respond` site too (bench/reloadswap: 141 in 60 reloads), so
// during a config reload those are reported, not failed; outside one they
// count.
type load struct {
	total, failed atomic.Int64
	frontDrops    atomic.Int64
	mu            sync.Mutex
	errors        []string
	halt          func()
}

func startLoad(url string) *load { return startLoadOpts(testkit.Clients{}, url, false) }

// startSteadyLoad is startLoad, returning once the load is under way (50
// requests sent), so that what follows happens under load.
func startSteadyLoad(t *testing.T, url string) *load {
	t.Helper()
	l := startLoad(url)
	waitFor(t, 10*time.Second, func() bool { return l.total.Load() > 50 }, "load")
	return l
}

// startLoadDuringReloads is startLoad for config reloads (see load).
func startLoadDuringReloads(url string) *load { return startLoadOpts(testkit.Clients{}, url, true) }

// startPostLoad is startSteadyLoad with POSTs of a small body (a request a
// proxy never retries), allowDrops as startLoadDuringReloads.
func startPostLoad(t *testing.T, url string, allowDrops bool) *load {
	t.Helper()
	l := startLoadOpts(testkit.Clients{Method: http.MethodPost, Body: []byte("x=1")}, url, allowDrops)
	waitFor(t, 10*time.Second, func() bool { return l.total.Load() > 50 }, "load")
	return l
}

func startLoadOpts(c testkit.Clients, url string, allowDrops bool) *load {
	l := &load{}
	l.halt = c.Run(url, 4, func(status int, err error, _ time.Duration) {
		l.total.Add(1)
		switch {
		case status == 0 && allowDrops:
			l.frontDrops.Add(1)
			return
		case err == nil && status != http.StatusOK:
			err = fmt.Errorf("status %d", status)
		case err == nil:
			return
		}
		l.failed.Add(1)
		l.mu.Lock()
		if len(l.errors) < 10 {
			l.errors = append(l.errors, err.Error())
		}
		l.mu.Unlock()
	})
	return l
}

// stopAfter keeps the load on until at least n more requests succeeded after
// the event, then stops it.
func (l *load) stop(t *testing.T, event string) {
	t.Helper()
	after := l.total.Load() + 200
	waitFor(t, 60*time.Second, func() bool { return l.total.Load() >= after }, "requests after "+event)
	l.halt()
	if n := l.failed.Load(); n != 0 {
		t.Errorf("%s: %d of %d requests failed: %v", event, n, l.total.Load(), l.errors)
	} else {
		t.Logf("%s: 0 of %d requests failed", event, l.total.Load())
	}
	if n := l.frontDrops.Load(); n > 0 {
		t.Logf("%s: %d connections reset by Caddy's own listener swap (not Gunicorn; see load)", event, n)
	}
}
