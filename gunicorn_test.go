package caddydjango

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests with real Gunicorn serving the demo Django project under
// the django app, through a real Caddy.

func TestGunicornAndWorkerUnderCaddy(t *testing.T) {
	t.Parallel()
	s := startDjangoSite(t, 2, "", `process worker /usr/bin/python3 manage.py worker --interval 0.2`)
	if code, body := httpGet(s.url("/hello/")); code != 200 || !strings.HasPrefix(body, "hello from django") {
		t.Fatalf("/hello/: %d %q", code, body)
	}
	st := s.statuses()
	g, w := st[gunicornName], s.waitState("worker", StateRunning, 30*time.Second)
	if g.PID == 0 || g.State != StateRunning || w.PID == 0 {
		t.Fatalf("status: %+v %+v", g, w)
	}
	// Gunicorn's output is logged under its own logger
	s.waitLog(10*time.Second, "gunicorn's boot line", func(e logEntry) bool {
		return e.str("logger") == "django.gunicorn" && strings.Contains(e.str("msg"), "Booting worker") && e.num("pid") == g.PID
	})
	// the worker runs: its heartbeat grows
	waitFor(t, 20*time.Second, func() bool {
		_, body := httpGet(s.url("/heartbeat/"))
		var hb struct{ Beats int }
		_ = json.Unmarshal([]byte(body), &hb)
		return hb.Beats >= 3
	}, "worker heartbeats")

	// a killed worker comes back
	if err := syscall.Kill(w.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		n := s.statuses()["worker"]
		return n.State == StateRunning && n.PID != w.PID && n.Restarts == 1
	}, "the killed worker to come back")
	w = s.statuses()["worker"]
	if w.LastExit != "killed by SIGKILL" {
		t.Errorf("last_exit %q", w.LastExit)
	}
	// it is ready (its SIGTERM handler installed) once it says so
	s.waitLog(30*time.Second, "the new worker's start line", func(e logEntry) bool {
		return e.str("logger") == "django.worker" && e.str("msg") == fmt.Sprintf("worker started pid=%d", w.PID)
	})

	// a reload that changes only the site keeps Gunicorn and the worker
	if err := s.reload(s.config(s.admin, 2, "", `process worker /usr/bin/python3 manage.py worker --interval 0.2`,
		"header X-Reloaded yes\n\tdjango_files")); err != nil {
		t.Fatal(err)
	}
	resp := getAfterReload(t, s.url("/hello/"))
	resp.Body.Close()
	if resp.Header.Get("X-Reloaded") != "yes" {
		t.Fatal("reload not applied")
	}
	after := s.statuses()
	if after[gunicornName].PID != g.PID || after["worker"].PID != w.PID {
		t.Fatalf("unrelated reload restarted processes: gunicorn %d->%d worker %d->%d",
			g.PID, after[gunicornName].PID, w.PID, after["worker"].PID)
	}

	// SIGTERM to Caddy: graceful, the worker sees TERM and exits cleanly,
	// nothing is left running
	members := append(groupMembers(g.PID), groupMembers(w.PID)...)
	if len(members) < 4 {
		t.Fatalf("expected gunicorn master, 2 workers and the worker, got %v", members)
	}
	state := s.signalAndWait(syscall.SIGTERM, 60*time.Second)
	if !state.Success() {
		t.Errorf("caddy exit: %v", state)
	}
	s.waitLog(time.Second, "the worker's clean exit", func(e logEntry) bool {
		return e.str("logger") == "django.worker" && e.str("msg") == "worker got SIGTERM, exiting cleanly"
	})
	if len(s.entries(msgIs("process stopped", isProcess("worker"), func(e logEntry) bool { return e.str("exit") == "exit status 0" }))) == 0 {
		t.Error("worker should exit with status 0")
	}
	for _, pid := range members {
		if testkit.Alive(pid) {
			t.Errorf("pid %d still running after caddy exited", pid)
		}
	}
}

func TestGunicornIsStartingUntilItServes(t *testing.T) {
	t.Parallel()
	// a launcher that takes 3 s before Gunicorn even starts: connections
	// made meanwhile wait in the backlog of the socket Caddy holds
	launcher := filepath.Join(t.TempDir(), "slow-gunicorn")
	if err := os.WriteFile(launcher, []byte("#!/bin/sh\nsleep 3\nexec "+systemGunicorn+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return strings.Replace(s.config(admin, 1, "args --access-logfile -", "", ""), "command "+systemGunicorn, "command "+launcher, 1)
	})
	// Caddy's Start returns before the boot goroutine launches the
	// process: it is STOPPED for a moment, then STARTING until it serves
	s.waitState(gunicornName, StateStarting, 10*time.Second)
	begin := time.Now()
	code, body := httpGet(s.url("/hello/"))
	if code != 200 {
		t.Fatalf("request during start: %d %q (should wait, not fail)", code, body)
	}
	if time.Since(begin) < time.Second {
		t.Errorf("answered after %s: expected to wait for Gunicorn", time.Since(begin))
	}
	s.waitState(gunicornName, StateRunning, 30*time.Second)
	// the readiness probe never reached Django: the only request in
	// Gunicorn's access log is ours
	accessLines := func() []logEntry {
		return s.entries(func(e logEntry) bool {
			return e.str("logger") == "django.gunicorn" && strings.Contains(e.str("msg"), "HTTP/1.1\" ")
		})
	}
	// Gunicorn writes the line after the answer: wait for it to reach the log
	waitFor(t, 10*time.Second, func() bool { return len(accessLines()) > 0 }, "gunicorn's access log line")
	access := accessLines()
	if len(access) != 1 || !strings.Contains(access[0].str("msg"), "GET /hello/") {
		t.Errorf("access log should hold exactly our request, got %v", access)
	}
}

// TestGunicornOnUnixSocket: a relative unix: bind is under the app's root;
// django_files finds it with no upstream line; the socket survives Gunicorn
// restarts (Gunicorn must not unlink the path Caddy holds).
func TestGunicornOnUnixSocket(t *testing.T) {
	t.Parallel()
	d := newDjangoProject(t)
	hport := freePort(t)
	c := startCaddy(t, t.TempDir(), func(admin string) string {
		return globalBlock(admin, fmt.Sprintf(`
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind unix:run/gunicorn.sock
		}`, d.Root, systemGunicorn)) + fmt.Sprintf("\n:%d {\n\tdjango_files\n}\n", hport)
	}, d.Env...)
	c.waitState(gunicornName, StateRunning, 60*time.Second)
	sock := filepath.Join(d.Root, "run", "gunicorn.sock")
	url := fmt.Sprintf("http://127.0.0.1:%d/hello/", hport)
	for i := 0; i < 2; i++ {
		if code, body := httpGet(url); code != 200 || !strings.HasPrefix(body, "hello from django") {
			t.Fatalf("round %d: %d %q", i, code, body)
		}
		if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Fatalf("round %d: socket %s: %v", i, sock, err)
		}
		if code, body := c.post("/django/processes/gunicorn/restart"); code != 200 {
			t.Fatalf("restart: %d %s", code, body)
		}
	}
}
