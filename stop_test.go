package caddydjango

import (
	"fmt"
	"os"
	"os/exec"
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

// TestCeleryWarmShutdown: a Celery worker (prefork pool, Debian's Celery)
// stopped in the middle of a task by `caddy django restart`. With
// `stop_signal INT`, as docs/operations.md says, it does its warm shutdown:
// the task runs to its end, within stop_timeout. With the default TERM, which
// goes to the whole process group, the pool process running the task dies
// at once (Celery's pool processes do not handle TERM; they ignore INT) and
// the task is cut off, however long stop_timeout is: the control.
func TestCeleryWarmShutdown(t *testing.T) {
	t.Parallel()
	if err := exec.Command(systemPython, "-c", "import celery").Run(); err != nil {
		t.Fatal(missingPackages("python3-celery"))
	}
	dir, queue := t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(dir, "tasks.py"), `import os, time
from celery import Celery

# kombu's filesystem transport: a broker that needs no server
app = Celery("tasks", broker="filesystem://")
folder = os.environ["CELERY_QUEUE_DIR"]
app.conf.broker_transport_options = {"data_folder_in": folder, "data_folder_out": folder}


@app.task
def job(name, steps):
    for step in range(1, steps + 1):
        print(f"{name}: step {step} of {steps}", flush=True)
        time.sleep(0.5)
    print(f"{name}: done", flush=True)
`)
	worker := func(name, signal string) string {
		return fmt.Sprintf("process %s %s -m celery -A tasks worker --pool prefork --concurrency 1 -Q %s --loglevel INFO {\n\t\t\tdir %s\n\t\t\tstop_signal %s\n\t\t\tstop_timeout 30s\n\t\t}",
			name, systemPython, name, dir, signal)
	}
	c := startWithDjango(t, t.TempDir(), fmt.Sprintf("\t\tenv CELERY_QUEUE_DIR %s\n\t\t%s\n\t\t%s", queue, worker("warm", "INT"), worker("term", "TERM")))
	logged := func(name, text string, pid int) func(logEntry) bool {
		return func(e logEntry) bool {
			return e.str("logger") == "django."+name && strings.Contains(e.str("msg"), text) && (pid == 0 || e.num("pid") == pid)
		}
	}
	stopped := map[string]int{}
	for _, name := range []string{"warm", "term"} {
		pid := c.waitState(name, StateRunning, 60*time.Second).PID
		c.waitLog(60*time.Second, name+" ready", logged(name, " ready.", pid))
		send := exec.Command(systemPython, "-c", fmt.Sprintf("import tasks; tasks.job.apply_async((%q, 12), queue=%q)", name, name))
		send.Dir, send.Env = dir, append(os.Environ(), "CELERY_QUEUE_DIR="+queue)
		if out, err := send.CombinedOutput(); err != nil {
			t.Fatalf("sending a task: %v\n%s", err, out)
		}
		c.waitLog(60*time.Second, name+"'s task under way", logged(name, name+": step 2 of 12", pid))
		// (with TERM, Celery's main process sometimes hangs once its pool
		// process is gone, and is killed after stop_timeout: either way the
		// task is cut off)
		out, errOut, code := runCLI(t, "restart", name, "--address", c.admin)
		if code != 0 || (name == "warm" && strings.Contains(errOut, "killed")) {
			t.Errorf("caddy django restart %s: exit %d\n%s%s", name, code, out, errOut)
		}
		stopped[name] = pid
	}
	// (what the broker does with the task afterwards is its own business)
	if done := c.entries(logged("warm", "warm: done", stopped["warm"])); len(done) != 1 {
		t.Errorf("with stop_signal INT the task did not run to its end in the stopped worker (warm shutdown): %v", done)
	}
	if done := c.entries(logged("term", "term: done", stopped["term"])); len(done) != 0 {
		t.Errorf("control: with TERM to the group the task ran to its end; the test cannot tell the signals apart")
	}
}
