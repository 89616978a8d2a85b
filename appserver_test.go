package caddydjango

import (
	"slices"
	"strings"
	"testing"
)

// The command line each app server kind runs, from the same entry.
func TestAppServerArgv(t *testing.T) {
	for _, tc := range []struct {
		server string
		want   []string
	}{
		{"", []string{"gunicorn", "--bind", "fd://3", "--bind", "fd://4", "--workers", "3", "--timeout", "9", "config.app:application"}},
		{"gunicorn", []string{"gunicorn", "--bind", "fd://3", "--bind", "fd://4", "--workers", "3", "--timeout", "9", "config.app:application"}},
		{"uvicorn", []string{"/usr/bin/python3", "-m", "uvicorn", "--fd", "3", "--workers", "3", "--timeout", "9", "config.app:application"}},
		{"hypercorn", []string{"hypercorn", "--bind", "fd://3", "--bind", "fd://4", "--workers", "3", "--timeout", "9", "config.app:application"}},
		{"daphne", []string{"daphne", "--fd", "3", "-e", "fd:fileno=4", "--timeout", "9", "config.app:application"}},
		{"uwsgi", []string{"uwsgi", "--plugin", "python3", "--http-socket", "fd://3", "--http-socket", "fd://4", "--workers", "3", "--master", "--need-app", "--hook-master-start", "unix_signal:15 gracefully_kill_them_all", "--timeout", "9", "--module", "config.app:application"}},
	} {
		c := &AppServerConfig{Server: tc.server, App: "config.app:application", Workers: countOf(3), Args: []string{"--timeout", "9"}}
		if tc.server == "daphne" {
			c.Workers = Count{}
		}
		s, err := c.spec(&App{Root: "/srv"})
		if err != nil {
			t.Fatalf("%q: %v", tc.server, err)
		}
		if !slices.Equal(s.Argv, tc.want) {
			t.Errorf("%q: argv %q, want %q", tc.server, s.Argv, tc.want)
		}
	}
}

// Each kind's defaults: name, stop signal and timeout, readiness.
func TestAppServerDefaults(t *testing.T) {
	for _, tc := range []struct {
		server, name, signal string
		stopSecs             int
		probeFD              bool
		readyLine            string
	}{
		{"gunicorn", "gunicorn", "TERM", 35, true, ""},
		{"uvicorn", "uvicorn", "TERM", 30, true, ""},
		{"hypercorn", "hypercorn", "TERM", 10, true, ""},
		{"daphne", "daphne", "TERM", 15, true, ""},
		{"uwsgi", "uwsgi", "TERM", 65, false, "spawned uWSGI worker 1 "},
	} {
		s, err := (&AppServerConfig{Server: tc.server, App: "a:b"}).spec(&App{Root: "/srv"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != tc.name || s.StopSignal != tc.signal || int(s.StopTimeout.Seconds()) != tc.stopSecs || s.ProbeFD != tc.probeFD || s.ReadyLine != tc.readyLine {
			t.Errorf("%s: name %s, stop %s after %v, probe fd %v, ready line %q", tc.server, s.Name, s.StopSignal, s.StopTimeout, s.ProbeFD, s.ReadyLine)
		}
	}
}

// Arguments that choose a socket are refused: Caddy holds it.
func TestAppServerArgsRejectSockets(t *testing.T) {
	for _, tc := range []struct{ server, arg string }{
		{"gunicorn", "--bind=0.0.0.0:80"}, {"gunicorn", "-b"}, {"gunicorn", "-b0.0.0.0:80"},
		{"uvicorn", "--port"}, {"uvicorn", "--uds=/tmp/s"}, {"uvicorn", "--fd"}, {"uvicorn", "--host"},
		{"hypercorn", "--bind"}, {"hypercorn", "--insecure-bind"},
		{"uwsgi", "--http-socket"}, {"uwsgi", "--socket=:3031"}, {"uwsgi", "--http"},
		{"daphne", "-p"}, {"daphne", "--endpoint=tcp:80"}, {"daphne", "-u"},
	} {
		_, err := (&AppServerConfig{Server: tc.server, App: "a:b", Args: []string{tc.arg}}).spec(&App{Root: "/srv"})
		if err == nil || !strings.Contains(err.Error(), "set `bind` instead") {
			t.Errorf("%s args %s: %v", tc.server, tc.arg, err)
		}
	}
	if _, err := (&AppServerConfig{Server: "granian", App: "a:b"}).spec(&App{Root: "/srv"}); err == nil || !strings.Contains(err.Error(), "want one of daphne, gunicorn, hypercorn, uvicorn, uwsgi") {
		t.Errorf("unknown server: %v", err)
	}
	if _, err := (&AppServerConfig{Server: "daphne", App: "a:b", Workers: countOf(2)}).spec(&App{Root: "/srv"}); err == nil || !strings.Contains(err.Error(), "workers is not supported for daphne") {
		t.Errorf("daphne workers: %v", err)
	}
}

// Several app servers: names and binds must be unique; daphne's bind is
// TCP (Twisted adopts TCP sockets only: on a unix socket it answers nothing).
func TestAppServersUnique(t *testing.T) {
	for _, tc := range []struct {
		app  *App
		want string
	}{
		{&App{Gunicorn: &GunicornConfig{App: "a:b"}, AppServers: []*AppServerConfig{{Server: "gunicorn", App: "c:d", Bind: "127.0.0.1:8001"}}}, `app server "gunicorn" is defined twice`},
		{&App{AppServers: []*AppServerConfig{{Server: "uvicorn", App: "a:b"}, {Server: "hypercorn", App: "c:d"}}}, "bind 127.0.0.1:8000 is already used by uvicorn"},
		{&App{AppServers: []*AppServerConfig{{Server: "uvicorn", App: "a:b"}}, Processes: []*ProcessConfig{{Name: "uvicorn", Command: []string{"x"}}}}, `process "uvicorn" is defined twice`},
		{&App{AppServers: []*AppServerConfig{{Server: "daphne", App: "a:b", Bind: "unix:/run/ws.sock"}}}, `daphne takes a HOST:PORT bind only`},
	} {
		tc.app.Root = "/srv"
		err := tc.app.provisionSpecs()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
	a := &App{Root: "/srv", Gunicorn: &GunicornConfig{App: "a:b"}, AppServers: []*AppServerConfig{{Server: "uvicorn", Name: "ws", App: "c:d", Bind: "unix:/run/ws.sock"}}}
	if err := a.provisionSpecs(); err != nil {
		t.Fatal(err)
	}
	if got := a.AppServerUpstream(""); got != "127.0.0.1:8000" {
		t.Errorf("first app server's upstream %q", got)
	}
	if got := a.AppServerUpstream("ws"); got != "unix//run/ws.sock" {
		t.Errorf("ws upstream %q", got)
	}
	if got := a.AppServerUpstream("nope"); got != "" {
		t.Errorf("unknown app server's upstream %q", got)
	}
}
