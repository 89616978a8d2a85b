//go:build unix

package caddydjango

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func observedLogger() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zap.DebugLevel)
	return zap.New(core), logs
}

func logMessages(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.All() {
		out = append(out, e.Message)
	}
	return out
}

// TestTailWriter: output written in arbitrary pieces is logged one line per
// entry (a last unterminated line on flush), and the tail kept for the
// error message is the last max bytes.
func TestTailWriter(t *testing.T) {
	log, logs := observedLogger()
	tw := &tailWriter{max: 10, log: log}
	for _, piece := range []string{"Apply", "ing migration 0001\nOK\n", "\nlast line, no newline"} {
		if n, err := tw.Write([]byte(piece)); n != len(piece) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", piece, n, err)
		}
	}
	if got, want := strings.Join(logMessages(logs), "|"), "Applying migration 0001|OK|"; got != want {
		t.Errorf("logged before flush: %q, want %q", got, want)
	}
	tw.flush()
	tw.flush() // nothing left: no second entry
	if got, want := strings.Join(logMessages(logs), "|"), "Applying migration 0001|OK||last line, no newline"; got != want {
		t.Errorf("logged after flush: %q, want %q", got, want)
	}
	if got := tw.String(); got != "no newline" {
		t.Errorf("tail = %q, want the last 10 bytes", got)
	}
}

func releaseApp(t *testing.T, release ...[]string) (*App, *observer.ObservedLogs) {
	t.Helper()
	log, logs := observedLogger()
	a := &App{
		ReleaseTimeout: caddy.Duration(time.Minute),
		Root:           t.TempDir(),
		env:            os.Environ(),
		logger:         log,
	}
	for _, argv := range release {
		a.Release = append(a.Release, ReleaseCommand{Command: argv})
	}
	if err := a.provisionReleases(); err != nil {
		t.Fatal(err)
	}
	return a, logs
}

// TestRunReleases: commands run in order in the root; the first failure
// stops the rest and its output's tail is in the error.
func TestRunReleases(t *testing.T) {
	a, logs := releaseApp(t,
		[]string{"/bin/sh", "-c", "echo first > order"},
		[]string{"/bin/sh", "-c", "echo migrating; echo 'django.db.utils.OperationalError: no such table' >&2; exit 3"},
		[]string{"/bin/sh", "-c", "echo never > order"},
	)
	err := a.runReleases(context.Background())
	if err == nil {
		t.Fatal("a failing release command gave no error")
	}
	for _, want := range []string{"exit status 3", "migrating", "OperationalError: no such table"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if b, _ := os.ReadFile(a.Root + "/order"); string(b) != "first\n" {
		t.Errorf("order file = %q: the command after the failure ran, or the first did not run in the root", b)
	}
	if got := logMessages(logs); !strings.Contains(strings.Join(got, "|"), "migrating") {
		t.Errorf("release output not logged: %q", got)
	}
	failed := logs.FilterMessage("release command failed").All()
	if len(failed) != 1 || failed[0].Level != zap.ErrorLevel {
		t.Fatalf("error entries for the failure: %v, want one", failed)
	}
	fields := failed[0].ContextMap()
	if fields["exit"] != "exit status 3" || fields["output"] != "migrating\ndjango.db.utils.OperationalError: no such table" ||
		!strings.Contains(fmt.Sprint(fields["command"]), "exit 3") {
		t.Errorf("error entry fields: %v", fields)
	}
}

// TestLastLines: a failed release's error entry carries the last lines.
func TestLastLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"a\nb\nc", 2, "b\nc"}, {"a\nb", 5, "a\nb"}, {"", 3, ""}, {"one", 1, "one"}} {
		if got := lastLines(c.in, c.n); got != c.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// TestFailedReleaseAtBootIsLogged: at boot nobody waits for the release
// commands (Caddy's Start has returned), so a failure is logged at error
// level with the command's exit and output; before, only the processes'
// last_error said it and the log stopped after "running release command".
func TestFailedReleaseAtBootIsLogged(t *testing.T) {
	a, logs := releaseApp(t, []string{"/bin/sh", "-c", "echo migration 0042 exploded >&2; exit 3"})
	a.boot(nil, true)
	var found bool
	for _, e := range logs.FilterLevelExact(zap.ErrorLevel).All() {
		err := e.ContextMap()["error"]
		if s, _ := err.(string); strings.Contains(e.Message, "boot failed") &&
			strings.Contains(s, "exit status 3") && strings.Contains(s, "migration 0042 exploded") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error entry for the failed release at boot; logged: %q", logMessages(logs))
	}
}

// TestRunReleaseTimeout: a command that outlives release_timeout is killed
// and the deploy fails with a timeout.
func TestRunReleaseTimeout(t *testing.T) {
	a, _ := releaseApp(t, []string{"/bin/sh", "-c", "echo waiting; exec sleep 600"})
	a.ReleaseTimeout = caddy.Duration(300 * time.Millisecond)
	err := a.runReleases(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") || !strings.Contains(err.Error(), "waiting") {
		t.Fatalf("error = %v, want a timeout with the command's output", err)
	}
}

// TestRunReleaseCannotStart: a missing program is a clear error.
func TestRunReleaseCannotStart(t *testing.T) {
	a, logs := releaseApp(t, []string{"/nonexistent/manage.py", "migrate"})
	err := a.runReleases(context.Background())
	if err == nil || !strings.Contains(err.Error(), `release command "/nonexistent/manage.py migrate" cannot start`) {
		t.Fatalf("error = %v", err)
	}
	if es := logs.FilterMessage("release command cannot start").FilterLevelExact(zap.ErrorLevel).All(); len(es) != 1 {
		t.Errorf("error entries: %v, want one", logs.All())
	}
}

// TestReleaseFailureAtBootIsLogged: a release command that fails at boot (a
// typo: `manage.py migrat`) leaves Caddy serving and its processes FATAL,
// and says so in the log at error level, before any request: the command,
// its exit status and the last lines of its output, then an entry for each
// process given up because of it. In a container the log is all a team sees.
func TestReleaseFailureAtBootIsLogged(t *testing.T) {
	t.Parallel()
	release := "release " + systemPython + " manage.py migrat\n\t\tprocess worker " + systemPython + " manage.py worker --interval 5"
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return s.config(admin, 2, "", release, "")
	})
	failed := s.waitLog(60*time.Second, "the release command's error entry", func(e logEntry) bool {
		return e.str("msg") == "release command failed"
	})
	if failed.str("level") != "error" || failed.str("logger") != "django.release" || failed.str("exit") != "exit status 1" ||
		!strings.Contains(failed.str("output"), "Unknown command: 'migrat'") || !strings.Contains(fmt.Sprint(failed["command"]), "migrat") {
		t.Errorf("release failure entry: %v, want level error, the command, exit status 1 and Django's own words", failed)
	}
	for _, name := range []string{gunicornName, "worker"} {
		e := s.waitLog(30*time.Second, name+" given up", func(e logEntry) bool {
			return e.str("process") == name && e.str("msg") == "process is FATAL: not started"
		})
		if e.str("level") != "error" || !strings.Contains(e.str("reason"), `release command "`+systemPython+` manage.py migrat" failed: exit status 1`) {
			t.Errorf("%s given up: %v, want level error and the failed release as the reason", name, e)
		}
		if st := s.statuses()[name]; st.State != StateFatal || !strings.Contains(st.LastError, "Unknown command") {
			t.Errorf("%s: %s, last_error %q", name, st.State, st.LastError)
		}
	}
	if code, _ := httpGet(s.url("/hello/")); code != http.StatusServiceUnavailable {
		t.Errorf("GET /hello/: %d, want 503 (Caddy serves, Gunicorn was given up)", code)
	}
}
