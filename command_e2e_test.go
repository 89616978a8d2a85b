package caddydjango

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of `caddy django`: the caddy binary's command against a
// real Caddy.

// runCLI runs `caddy django args...` and returns its output and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIInput(t, "", args...)
}

// runCLIInput is runCLI with stdin.
func runCLIInput(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := caddyBinary(t) // before the deadline starts: it may build Caddy
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"django"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("caddy django %q: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// runCLIOK runs a command that must succeed and returns its table's rows.
func runCLIOK(t *testing.T, args ...string) map[string]tableRow {
	t.Helper()
	out, errOut, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("caddy django %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
	}
	return parseTable(t, out)
}

type tableRow struct {
	state    string
	pid      int
	restarts int
	line     string
}

func parseTable(t *testing.T, out string) map[string]tableRow {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "NAME ") || !strings.HasSuffix(lines[0], "LAST EXIT / ERROR") {
		t.Fatalf("not a status table:\n%s", out)
	}
	rows := map[string]tableRow{}
	for _, l := range lines[1:] {
		if l == "" { // the end of the table: the drain and lock, the files follow
			break
		}
		f := strings.Fields(l)
		if len(f) < 6 {
			t.Fatalf("short row %q in:\n%s", l, out)
		}
		pid, _ := strconv.Atoi(f[2]) // "-": 0
		restarts, err := strconv.Atoi(f[4])
		if err != nil {
			t.Fatalf("row %q: restarts: %v", l, err)
		}
		rows[f[0]] = tableRow{state: f[1], pid: pid, restarts: restarts, line: l}
	}
	return rows
}

func TestCLIProcessControl(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		process sleeper /bin/sleep 1000 {
			autorestart always
			backoff 100ms
		}
		process other /bin/sleep 1000`)
	first := c.waitState("sleeper", StateRunning, 20*time.Second)
	c.waitState("other", StateRunning, 20*time.Second)
	addr := []string{"--address", c.admin}

	t.Run("status", func(t *testing.T) {
		rows := runCLIOK(t, append([]string{"status"}, addr...)...)
		if r := rows["sleeper"]; r.state != StateRunning || r.pid != first.PID || len(rows) != 2 {
			t.Errorf("status rows %+v; want sleeper RUNNING with pid %d, and other", rows, first.PID)
		}
		rows = runCLIOK(t, append([]string{"status", "sleeper"}, addr...)...)
		if len(rows) != 1 || rows["sleeper"].pid != first.PID {
			t.Errorf("status sleeper: %+v", rows)
		}
		out, errOut, code := runCLI(t, append([]string{"status", "--json"}, addr...)...)
		var sts []ProcessStatus
		if err := json.Unmarshal([]byte(out), &sts); code != 0 || err != nil || len(sts) != 2 || sts[0].Name != "sleeper" || sts[0].PID != first.PID {
			t.Errorf("status --json: exit %d, %v\n%s%s", code, err, out, errOut)
		}
	})

	t.Run("admin address from --config", func(t *testing.T) {
		rows := runCLIOK(t, "status", "--config", filepath.Join(dir, "Caddyfile"), "--adapter", "caddyfile")
		if rows["sleeper"].pid != first.PID {
			t.Errorf("status via --config: %+v", rows)
		}
	})

	var pid int
	t.Run("restart", func(t *testing.T) {
		rows := runCLIOK(t, append([]string{"restart", "sleeper"}, addr...)...)
		r := rows["sleeper"]
		if len(rows) != 1 || r.state != StateRunning || r.pid == 0 || r.pid == first.PID {
			t.Fatalf("restart: %+v; want RUNNING with a pid other than %d", rows, first.PID)
		}
		if testkit.Alive(first.PID) {
			t.Errorf("old pid %d still alive", first.PID)
		}
		if st := c.statuses()["sleeper"]; st.PID != r.pid {
			t.Errorf("API says pid %d, table %d", st.PID, r.pid)
		}
		pid = r.pid
	})

	t.Run("stop", func(t *testing.T) {
		rows := runCLIOK(t, append([]string{"stop", "sleeper"}, addr...)...)
		if r := rows["sleeper"]; r.state != StateStopped || r.pid != 0 {
			t.Errorf("stop: %+v", rows)
		}
		if testkit.Alive(pid) {
			t.Errorf("pid %d still alive after stop", pid)
		}
		// stays stopped
		time.Sleep(500 * time.Millisecond)
		if st := c.statuses()["sleeper"]; st.State != StateStopped {
			t.Errorf("after stop: %+v", st)
		}
		// a stopped process cannot be signalled
		out, errOut, code := runCLI(t, append([]string{"signal", "sleeper", "HUP"}, addr...)...)
		if code == 0 || out != "" || !strings.Contains(errOut, "sleeper is not running (STOPPED)") {
			t.Errorf("signal to a stopped process: exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("start", func(t *testing.T) {
		rows := runCLIOK(t, append([]string{"start", "sleeper"}, addr...)...)
		r := rows["sleeper"]
		if r.state != StateRunning || r.pid == 0 || r.pid == pid {
			t.Fatalf("start: %+v", rows)
		}
		if !testkit.Alive(r.pid) {
			t.Errorf("pid %d not alive", r.pid)
		}
		pid = r.pid
	})

	t.Run("signal TERM restarts it", func(t *testing.T) {
		rows := runCLIOK(t, append([]string{"signal", "sleeper", "TERM"}, addr...)...)
		if _, ok := rows["sleeper"]; !ok || len(rows) != 1 {
			t.Errorf("signal: %+v", rows)
		}
		var st ProcessStatus
		waitFor(t, 20*time.Second, func() bool {
			st = c.statuses()["sleeper"]
			return st.State == StateRunning && st.PID != pid && st.PID != 0
		}, "sleeper to come back with a new pid")
		rows = runCLIOK(t, append([]string{"status", "sleeper"}, addr...)...)
		r := rows["sleeper"]
		if r.pid != st.PID || r.restarts < 1 || !strings.HasSuffix(r.line, "killed by SIGTERM") {
			t.Errorf("after TERM: %q; want pid %d, a restart and the last exit", r.line, st.PID)
		}
		pid = st.PID
	})

	t.Run("unknown process", func(t *testing.T) {
		for _, args := range [][]string{{"status", "nope"}, {"restart", "nope"}, {"stop", "nope"}, {"start", "nope"}, {"signal", "nope", "HUP"}} {
			out, errOut, code := runCLI(t, append(args, addr...)...)
			if code == 0 || out != "" || !strings.Contains(errOut, `no process named "nope"`) {
				t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
			}
		}
	})

	t.Run("bad signal", func(t *testing.T) {
		out, errOut, code := runCLI(t, append([]string{"signal", "sleeper", "BOGUS"}, addr...)...)
		if code == 0 || out != "" || !strings.Contains(errOut, `unknown signal "BOGUS"`) {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
		if st := c.statuses()["sleeper"]; st.PID != pid || st.State != StateRunning {
			t.Errorf("after a bad signal: %+v", st)
		}
	})

	t.Run("reload", func(t *testing.T) {
		before := c.statuses()
		rows := runCLIOK(t, append([]string{"reload"}, addr...)...)
		if len(rows) != 2 {
			t.Fatalf("reload: %+v", rows)
		}
		for name, r := range rows {
			if r.state != StateRunning || r.pid == 0 || r.pid == before[name].PID {
				t.Errorf("after reload %s: %q; want RUNNING with a pid other than %d", name, r.line, before[name].PID)
			}
		}
	})
}

func TestCLINoCaddyRunning(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for _, args := range [][]string{{"status"}, {"restart", "web"}, {"reload"}} {
		out, errOut, code := runCLI(t, append(args, "--address", addr)...)
		want := "cannot reach Caddy's admin API at " + addr + ": is Caddy running?"
		if code == 0 || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s\nwant %q", args, code, out, errOut, want)
		}
	}
}

func TestCLIWithoutDjangoApp(t *testing.T) {
	t.Parallel()
	c := startCaddy(t, t.TempDir(), func(admin string) string {
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\n", admin)
	})
	out, errOut, code := runCLI(t, "status", "--address", c.admin)
	if code == 0 || out != "" || !strings.Contains(errOut, "the django app is not configured") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
