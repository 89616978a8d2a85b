//go:build unix

package caddydjango

import (
	"context"
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
	a, _ := releaseApp(t, []string{"/nonexistent/manage.py", "migrate"})
	err := a.runReleases(context.Background())
	if err == nil || !strings.Contains(err.Error(), `release command "/nonexistent/manage.py migrate" cannot start`) {
		t.Fatalf("error = %v", err)
	}
}
