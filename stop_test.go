package caddydjango

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// startDjangoSiteReplacing is startDjangoSite with old replaced by new in
// the Caddyfile (another command or app); it does not wait for Gunicorn.
func startDjangoSiteReplacing(t *testing.T, workers int, gunicornExtra, old, new string) *djangoSite {
	t.Helper()
	d := newDjangoProject(t)
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return strings.Replace(s.config(admin, workers, gunicornExtra, "", ""), old, new, 1)
	}, d.Env...)
	return s
}

// TestLauncherThatExitsOnTERMLetsGunicornDrain: `command` is a launcher
// that starts Gunicorn as a child (keeping the inherited fds 3 and 4, the
// socket Caddy holds and the readiness socket) and exits at once on TERM,
// as `sh -c` without exec or a small wrapper do. Its process group gets
// stop_timeout to exit, not only the launcher: a 6-second POST in flight
// during a restart and during a stop is answered 200 (before, the group
// was SIGKILLed as soon as the launcher had gone: 502). After the stop,
// nothing of the group is left.
func TestLauncherThatExitsOnTERMLetsGunicornDrain(t *testing.T) {
	t.Parallel()
	launcher := filepath.Join(t.TempDir(), "launch-gunicorn")
	script := "#!/bin/sh\ntrap 'exit 0' TERM\n" + systemGunicorn + " \"$@\" &\nwait\n"
	if err := os.WriteFile(launcher, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startDjangoSiteReplacing(t, 2, "", "command "+systemGunicorn, "command "+launcher)
	first := s.waitState(gunicornName, StateRunning, 60*time.Second)
	if kids := testkit.Descendants(first.PID); len(kids) < 3 {
		t.Fatalf("launcher %d should have gunicorn and 2 workers below it, has %v", first.PID, kids)
	}

	done := startSlowPost(t, s, 6)
	caddyDjango(t, s, "restart", gunicornName)
	wantSlept(t, done, 6, "restart")
	second := s.waitState(gunicornName, StateRunning, 60*time.Second)
	if second.PID == first.PID {
		t.Fatalf("restart kept launcher %d", first.PID)
	}
	if left := groupMembers(first.PID); len(left) > 0 {
		t.Errorf("old group %d left running after the restart: %v", first.PID, left)
	}

	members := groupMembers(second.PID)
	if len(members) < 4 {
		t.Fatalf("expected the launcher, gunicorn and 2 workers in group %d, got %v", second.PID, members)
	}
	done = startSlowPost(t, s, 6)
	caddyDjango(t, s, "stop", gunicornName)
	wantSlept(t, done, 6, "stop")
	if st := s.statuses()[gunicornName]; st.State != StateStopped {
		t.Errorf("after stop: %+v", st)
	}
	// stop answers once the whole group is gone
	if left := groupMembers(second.PID); len(left) > 0 {
		t.Errorf("group %d left running after stop: %v", second.PID, left)
	}
	for _, pid := range members {
		if testkit.Alive(pid) {
			t.Errorf("pid %d of the stopped group still runs", pid)
		}
	}
}
