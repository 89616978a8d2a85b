package caddydjango

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// --- unit tests: table, arguments, and the client against a fake admin API ---

func TestCLIStatusTableFormat(t *testing.T) {
	var buf bytes.Buffer
	err := formatStatusTable(&buf, []ProcessStatus{
		{Name: "gunicorn", Group: "gunicorn", State: StateRunning, PID: 4242, UptimeSecs: 3723.9, Uptime: "1h2m3s", Restarts: 1, LastExit: "killed by SIGKILL"},
		{Name: "worker-1", Group: "worker", State: StateBackoff, Restarts: 12, LastExit: "exit status 1", LastError: "exec: \"nope\": executable file not found in $PATH"},
		{Name: "beat", Group: "beat", State: StateStopped},
		{Name: "old", Group: "old", State: StateRunning, PID: 7, UptimeSecs: 2*86400 + 5, Uptime: "48h0m5s", LastError: "a\ttab\nand newline"},
		{Name: "one", Group: "one", State: StateRunning, PID: 8, UptimeSecs: 86400},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `NAME      STATE    PID   UPTIME           RESTARTS  LAST EXIT / ERROR
gunicorn  RUNNING  4242  1:02:03          1         killed by SIGKILL
worker-1  BACKOFF  -     -                12        exit status 1; exec: "nope": executable file not found in $PATH
beat      STOPPED  -     -                0         -
old       RUNNING  7     2 days, 0:00:05  0         a tab and newline
one       RUNNING  8     1 day, 0:00:00   0         -
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}

	buf.Reset()
	if err := formatStatusTable(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "NAME  STATE  PID  UPTIME  RESTARTS  LAST EXIT / ERROR\n" {
		t.Errorf("empty table: %q", got)
	}
}

func TestCLIUptimeFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0:00:00",
		999 * time.Millisecond:          "0:00:00",
		61 * time.Second:                "0:01:01",
		10*time.Hour + 5*time.Second:    "10:00:05",
		25 * time.Hour:                  "1 day, 1:00:00",
		3*24*time.Hour + 59*time.Minute: "3 days, 0:59:00",
		-time.Second:                    "0:00:00",
	} {
		if got := formatUptime(d); got != want {
			t.Errorf("formatUptime(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestCLIRegistered(t *testing.T) {
	cmd, ok := caddycmd.Commands()["django"]
	if !ok {
		t.Fatal("no django command registered")
	}
	if !strings.Contains(cmd.Short, "private admin API") || !strings.Contains(cmd.Long, "never expose it publicly") {
		t.Errorf("help texts must say the admin API is not to be exposed:\n%s\n%s", cmd.Short, cmd.Long)
	}
}

// runInProcess runs `caddy django args...` on a fresh command tree.
func runInProcess(args ...string) (stdout string, err error) {
	root := &cobra.Command{Use: "caddy", SilenceUsage: true, SilenceErrors: true}
	dj := &cobra.Command{Use: "django", Short: djangoShort, Long: djangoLong}
	setupDjangoCommand(dj)
	root.AddCommand(dj)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"django"}, args...))
	err = root.Execute()
	return out.String(), err
}

// fakeAdmin is an admin API that answers with handle and records requests.
type fakeAdmin struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []string
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

func newFakeAdmin(t *testing.T) *fakeAdmin {
	f := &fakeAdmin{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.EscapedPath())
		n := len(f.reqs)
		handle := f.handle
		f.mu.Unlock()
		if handle == nil {
			http.Error(w, `{"error":"unexpected request"}`, http.StatusTeapot)
			return
		}
		handle(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAdmin) setHandle(h func(w http.ResponseWriter, r *http.Request, n int)) {
	f.mu.Lock()
	f.handle = h
	f.mu.Unlock()
}

func (f *fakeAdmin) addr() string { return strings.TrimPrefix(f.URL, "http://") }

func (f *fakeAdmin) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.reqs
	f.reqs = nil
	return out
}

func writeStatuses(w http.ResponseWriter, sts ...ProcessStatus) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sts)
}

func writeAPIError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func TestCLIArgumentValidation(t *testing.T) {
	f := newFakeAdmin(t) // no handler: any request is a failure
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"restart"}, "missing <name>; usage: caddy django restart <name>"},
		{[]string{"stop"}, "missing <name>"},
		{[]string{"start"}, "missing <name>"},
		{[]string{"signal"}, "missing <name>"},
		{[]string{"signal", "web"}, "missing <signal>; usage: caddy django signal <name> <signal>"},
		{[]string{"signal", "web", "HUP", "extra"}, `too many arguments (["extra"])`},
		{[]string{"restart", "a", "b"}, `too many arguments (["b"])`},
		{[]string{"status", "a", "b"}, `too many arguments (["b"])`},
		{[]string{"reload", "now"}, `too many arguments (["now"])`},
		{[]string{"restart", "a/b"}, `invalid <name> "a/b"`},
		{[]string{"restart", ""}, `invalid <name> ""`},
		{[]string{"signal", "web", "../stop"}, `invalid <signal> "../stop"`},
		{[]string{"relaod"}, `unknown command "relaod" for "caddy django"; did you mean reload?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "caddy django"`},
		{[]string{"status", "--wait", "soon"}, `invalid argument "soon" for "--wait"`},
	} {
		_, err := runInProcess(append(tc.args, "--address", f.addr())...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("django %q: error %v, want %q", tc.args, err, tc.want)
		}
	}
	if reqs := f.requests(); len(reqs) > 0 {
		t.Errorf("invalid commands reached the API: %q", reqs)
	}
	// no subcommand: help, no request
	out, err := runInProcess("--address", f.addr())
	if err != nil || !strings.Contains(out, "never expose it publicly") {
		t.Errorf("caddy django: %v\n%s", err, out)
	}
	if reqs := f.requests(); len(reqs) > 0 {
		t.Errorf("help reached the API: %q", reqs)
	}
}

func TestCLIAgainstFakeAdminAPI(t *testing.T) {
	f := newFakeAdmin(t)
	running := ProcessStatus{Name: "web", Group: "web", State: StateRunning, PID: 101, UptimeSecs: 5, Uptime: "5s"}
	stopped := ProcessStatus{Name: "web", Group: "web", State: StateStopped, LastExit: "killed by SIGTERM"}
	starting := ProcessStatus{Name: "web", Group: "web", State: StateStarting, PID: 102}
	fatal := ProcessStatus{Name: "web", Group: "web", State: StateFatal, Restarts: 3, LastExit: "exit status 1"}

	t.Run("status", func(t *testing.T) {
		f.setHandle(func(w http.ResponseWriter, r *http.Request, _ int) { writeStatuses(w, running, stopped) })
		out, err := runInProcess("status", "--address", f.addr())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "web   RUNNING  101  0:00:05") || !strings.HasPrefix(out, "NAME ") {
			t.Errorf("output:\n%s", out)
		}
		out, err = runInProcess("status", "web 1", "--json", "--address", f.addr())
		if err != nil {
			t.Fatal(err)
		}
		var got []ProcessStatus
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 || got[0].PID != 101 {
			t.Errorf("--json output %q: %v", out, err)
		}
		want := []string{"GET /django/processes", "GET /django/processes/web%201"}
		if reqs := f.requests(); fmt.Sprint(reqs) != fmt.Sprint(want) {
			t.Errorf("requests %q, want %q", reqs, want)
		}
	})

	t.Run("start waits for RUNNING", func(t *testing.T) {
		// the endpoint answers before the new process has left STOPPED
		f.setHandle(func(w http.ResponseWriter, r *http.Request, n int) {
			switch n {
			case 1:
				writeStatuses(w, stopped)
			case 2:
				writeStatuses(w, starting)
			default:
				writeStatuses(w, running)
			}
		})
		out, err := runInProcess("start", "web", "--address", f.addr())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "RUNNING  101") || strings.Count(out, "\n") != 2 {
			t.Errorf("output:\n%s", out)
		}
		want := []string{"POST /django/processes/web/start", "GET /django/processes/web", "GET /django/processes/web"}
		if reqs := f.requests(); fmt.Sprint(reqs) != fmt.Sprint(want) {
			t.Errorf("requests %q, want %q", reqs, want)
		}
	})

	t.Run("--wait 0 prints the answer as is", func(t *testing.T) {
		f.setHandle(func(w http.ResponseWriter, r *http.Request, n int) { writeStatuses(w, stopped) })
		out, err := runInProcess("restart", "web", "--wait", "0", "--address", f.addr())
		if err != nil || !strings.Contains(out, "STOPPED") {
			t.Errorf("%v:\n%s", err, out)
		}
		if reqs := f.requests(); fmt.Sprint(reqs) != "[POST /django/processes/web/restart]" {
			t.Errorf("requests %q", reqs)
		}
	})

	t.Run("start ending FATAL fails", func(t *testing.T) {
		f.setHandle(func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				writeStatuses(w, starting)
				return
			}
			writeStatuses(w, fatal)
		})
		out, err := runInProcess("start", "web", "--address", f.addr())
		if err == nil || err.Error() != "web is FATAL: exit status 1" || !strings.Contains(out, "FATAL") {
			t.Errorf("%v:\n%s", err, out)
		}
		f.requests()
	})

	t.Run("wait times out", func(t *testing.T) {
		f.setHandle(func(w http.ResponseWriter, r *http.Request, n int) { writeStatuses(w, starting) })
		out, err := runInProcess("restart", "web", "--wait", "300ms", "--address", f.addr())
		if err == nil || err.Error() != "web is still STARTING after 300ms (see --wait)" || !strings.Contains(out, "STARTING") {
			t.Errorf("%v:\n%s", err, out)
		}
		f.requests()
	})

	t.Run("stop, signal and reload", func(t *testing.T) {
		f.setHandle(func(w http.ResponseWriter, r *http.Request, n int) {
			if r.URL.Path == "/django/processes/web/stop" {
				writeStatuses(w, stopped)
				return
			}
			writeStatuses(w, running)
		})
		for _, args := range [][]string{{"stop", "web"}, {"signal", "web", "HUP"}, {"reload"}} {
			if out, err := runInProcess(append(args, "--address", f.addr())...); err != nil || !strings.HasPrefix(out, "NAME") {
				t.Errorf("%q: %v\n%s", args, err, out)
			}
		}
		want := []string{"POST /django/processes/web/stop", "POST /django/processes/web/signal/HUP", "POST /django/reload"}
		if reqs := f.requests(); fmt.Sprint(reqs) != fmt.Sprint(want) {
			t.Errorf("requests %q, want %q", reqs, want)
		}
	})

	t.Run("API errors", func(t *testing.T) {
		for _, tc := range []struct {
			handle func(w http.ResponseWriter, r *http.Request, n int)
			want   string
		}{
			{func(w http.ResponseWriter, r *http.Request, n int) {
				writeAPIError(w, http.StatusNotFound, `no process named "web"`)
			}, `no process named "web"`},
			{func(w http.ResponseWriter, r *http.Request, n int) {
				writeAPIError(w, http.StatusInternalServerError, "migrate: exit status 1")
			}, "migrate: exit status 1"},
			{func(w http.ResponseWriter, r *http.Request, n int) {
				http.Error(w, "404 page not found", http.StatusNotFound)
			}, "admin API at " + f.addr() + " answered HTTP 404: 404 page not found"},
			{func(w http.ResponseWriter, r *http.Request, n int) {
				w.WriteHeader(http.StatusBadGateway)
			}, "admin API at " + f.addr() + " answered HTTP 502: Bad Gateway"},
			{func(w http.ResponseWriter, r *http.Request, n int) {
				_, _ = w.Write([]byte("<html>"))
			}, "decoding the admin API's answer"},
		} {
			f.setHandle(tc.handle)
			out, err := runInProcess("restart", "web", "--address", f.addr())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("output on error: %q", out)
			}
		}
		f.requests()
	})
}

func TestCLIUnreachableAdminAPI(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	_, err := runInProcess("status", "--address", addr)
	want := "cannot reach Caddy's admin API at " + addr + ": is Caddy running?"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// --- end to end: the caddy binary's `django` command against a real Caddy ---

// runCLI runs `caddy django args...` and returns its output and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := caddyBinary(t) // before the deadline starts: it may build Caddy
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"django"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
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
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
		process sleeper /bin/sleep 1000 {
			autorestart always
			backoff 100ms
		}
		process other /bin/sleep 1000`)
	})
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
