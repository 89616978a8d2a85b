package caddydjango

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// In-process tests of `caddy django`: the status table, argument
// validation, and the client against a fake admin API.

func TestCLIStatusTableFormat(t *testing.T) {
	var buf bytes.Buffer
	err := formatStatusTable(&buf, []ProcessStatus{
		{Name: "gunicorn", Group: "gunicorn", State: StateRunning, PID: 4242, UptimeSecs: 3723.9, Uptime: "1h2m3s", Restarts: 1, LastExit: "killed by SIGKILL"},
		{Name: "worker-1", Group: "worker", State: StateBackoff, Restarts: 12, LastExit: "exit status 1", LastError: "exec: \"nope\": executable file not found in $PATH"},
		{Name: "beat", Group: "beat", State: StateStopped},
		{Name: "old", Group: "old", State: StateRunning, PID: 7, UptimeSecs: 2*86400 + 5, Uptime: "48h0m5s", LastError: "a\ttab\nand newline"},
		{Name: "one", Group: "one", State: StateRunning, PID: 8, UptimeSecs: 86400},
		{Name: "web", Group: "web", State: StateRunning, PID: 9, UptimeSecs: 60, Recycles: 3, LastRecycle: "memory: worker 12 used 530 MiB, over max_memory 512 MiB"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `NAME      STATE    PID   UPTIME           RESTARTS  RECYCLES  LAST EXIT / ERROR
gunicorn  RUNNING  4242  1:02:03          1         0         killed by SIGKILL
worker-1  BACKOFF  -     -                12        0         exit status 1; exec: "nope": executable file not found in $PATH
beat      STOPPED  -     -                0         0         -
old       RUNNING  7     2 days, 0:00:05  0         0         a tab and newline
one       RUNNING  8     1 day, 0:00:00   0         0         -
web       RUNNING  9     0:01:00          0         3         last recycle: memory: worker 12 used 530 MiB, over max_memory 512 MiB
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}

	buf.Reset()
	if err := formatStatusTable(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "NAME  STATE  PID  UPTIME  RESTARTS  RECYCLES  LAST EXIT / ERROR\n" {
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
		// status without a name asks for the drain and lock lines and the
		// files table too (answers that are not those, as here, leave them
		// out)
		want := []string{"GET /django/processes", "GET /django/cluster", "GET /django/files", "GET /django/processes/web%201"}
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
