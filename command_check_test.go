package caddydjango

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStatusCheck: `caddy django status --check` against a real Caddy
// supervising a real Gunicorn and a worker: exit 0 while healthy, 1 naming
// the process and why when the worker is FATAL or Gunicorn stopped, the
// same for a named process, and 2 when the admin API cannot be reached.
func TestStatusCheck(t *testing.T) {
	t.Parallel()
	flag := filepath.Join(t.TempDir(), "broken")
	// the worker fails to start (exit 1 at once) once flag exists
	worker := fmt.Sprintf(`process job /bin/sh -c "test -e %s && echo job is broken >&2 && exit 1; exec sleep 1000" {
			startretries 0
		}`, flag)
	s := startDjangoSite(t, 1, "", worker)
	s.waitState("job", StateRunning, 30*time.Second)
	addr := []string{"--address", s.admin}
	check := func(args ...string) (string, string, int) {
		return runCLI(t, append(append([]string{"status", "--check"}, args...), addr...)...)
	}

	for _, args := range [][]string{nil, {"job"}, {"gunicorn"}} {
		if out, errOut, code := check(args...); code != 0 || !strings.Contains(out, "RUNNING") {
			t.Errorf("check %q while all RUNNING: exit %d\n%s%s", args, code, out, errOut)
		}
	}

	// the worker goes FATAL: unhealthy, with or without its name
	mustWrite(t, flag, "")
	runCLIOK(t, append([]string{"signal", "job", "KILL"}, addr...)...)
	s.waitState("job", StateFatal, 30*time.Second)
	for _, args := range [][]string{nil, {"job"}} {
		out, errOut, code := check(args...)
		if code != 1 || !strings.Contains(errOut, "job is FATAL") || !strings.Contains(errOut, "exit status 1") || parseTable(t, out)["job"].state != StateFatal {
			t.Errorf("check %q with job FATAL: exit %d, want 1 naming job and its exit\nstdout: %s\nstderr: %s", args, code, out, errOut)
		}
	}
	// named: gunicorn itself is fine
	if out, errOut, code := check("gunicorn"); code != 0 {
		t.Errorf("check gunicorn with job FATAL: exit %d\n%s%s", code, out, errOut)
	}
	// a name that does not exist
	if out, errOut, code := check("nope"); code != 1 || !strings.Contains(errOut, `no process named "nope"`) {
		t.Errorf("check nope: exit %d\n%s%s", code, out, errOut)
	}

	// the worker is repaired and started; Gunicorn stopped: unhealthy
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	runCLIOK(t, append([]string{"start", "job"}, addr...)...)
	runCLIOK(t, append([]string{"stop", "gunicorn"}, addr...)...)
	out, errOut, code := check()
	if code != 1 || !strings.Contains(errOut, "gunicorn is STOPPED, not RUNNING") || strings.Contains(errOut, "job") {
		t.Errorf("check with gunicorn stopped: exit %d, want 1 naming gunicorn only\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	runCLIOK(t, append([]string{"start", "gunicorn"}, addr...)...)
	if out, errOut, code := check(); code != 0 {
		t.Errorf("check after start: exit %d\n%s%s", code, out, errOut)
	}
}

func TestStatusCheckAdminDown(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for _, args := range [][]string{{"status", "--check"}, {"status", "--check", "gunicorn"}} {
		out, errOut, code := runCLI(t, append(args, "--address", addr)...)
		if code != 2 || out != "" || !strings.Contains(errOut, "cannot reach Caddy's admin API at "+addr) {
			t.Errorf("%q with no Caddy: exit %d, want 2\nstdout: %s\nstderr: %s", args, code, out, errOut)
		}
	}
}
