//go:build unix

package caddydjango

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// workerSpec is a worker definition as Provision resolves it, for a program
// run by /bin/sh.
func workerSpec(script string) *spec {
	return &spec{
		Name: "worker", Group: "worker",
		Argv:        []string{"/bin/sh", "-c", script},
		Autorestart: "always", ExitCodes: []int{0},
		StartSecs: 0, Retries: 3,
		Backoff: time.Millisecond, BackoffMax: time.Millisecond,
		StopSignal: "TERM", StopTimeout: 10 * time.Second,
		Priority: defaultPriority,
	}
}

// startProc starts a process for s and stops it when the test ends.
func startProc(t *testing.T, s *spec) *process {
	t.Helper()
	p := newProcess(s, zap.NewNop())
	p.start()
	t.Cleanup(p.stop)
	return p
}

// stopProc stops p and checks it ends STOPPED.
func stopProc(t *testing.T, p *process) {
	t.Helper()
	p.stop()
	if st, _ := p.snapshot(); st != StateStopped {
		t.Errorf("after stop: %s, want STOPPED", st)
	}
}

func waitProcState(t *testing.T, p *process, want string) {
	t.Helper()
	waitFor(t, 30*time.Second, func() bool { st, _ := p.snapshot(); return st == want }, "state "+want)
}

// TestProcessExitsWithoutRestart: with autorestart never, a program that
// exits after RUNNING is EXITED (with its exit status) until stopped.
func TestProcessExitsWithoutRestart(t *testing.T) {
	s := workerSpec("exit 3")
	s.Autorestart = "never"
	p := startProc(t, s)
	waitProcState(t, p, StateExited)
	st := p.status()
	if st.LastExit != "exit status 3" || st.Restarts != 0 || st.PID != 0 {
		t.Errorf("status = %+v, want last_exit exit status 3, no restarts, no pid", st)
	}
	stopProc(t, p)
}

// TestProcessFatalAfterRetries: a program that never stays up StartSecs
// is retried StartRetries times, then FATAL with its error line, and the
// FATAL hook runs once.
func TestProcessFatalAfterRetries(t *testing.T) {
	s := workerSpec("echo 'ImportError: no module named config' >&2; exit 1")
	s.StartSecs, s.Retries = 10*time.Second, 2
	fatal := make(chan string, 4)
	p := newProcess(s, zap.NewNop())
	p.onFatal = func(p *process) { fatal <- p.spec.Name }
	p.start()
	t.Cleanup(p.stop)
	waitProcState(t, p, StateFatal)
	st := p.status()
	if st.Restarts != 2 || st.LastError != "ImportError: no module named config" || st.LastExit != "exit status 1" {
		t.Errorf("status = %+v, want 2 restarts, the ImportError as last_error", st)
	}
	if len(fatal) != 1 {
		t.Errorf("onFatal ran %d times, want once", len(fatal))
	}
	stopProc(t, p)
}

// TestProcessRestartsUnexpectedExit: autorestart unexpected restarts on an
// exit code not in exitcodes, and leaves an expected one EXITED.
func TestProcessRestartsUnexpectedExit(t *testing.T) {
	dir := t.TempDir()
	// the first run exits 2 (unexpected), the second exits 0 (expected)
	s := workerSpec("if [ -e " + dir + "/ran ]; then exit 0; fi; touch " + dir + "/ran; exit 2")
	s.Autorestart = "unexpected"
	p := startProc(t, s)
	waitProcState(t, p, StateExited)
	if st := p.status(); st.Restarts != 1 || st.LastExit != "exit status 0" {
		t.Errorf("status = %+v, want one restart, last exit 0", st)
	}
	stopProc(t, p)
}

// TestProcessStop: a stop request ends a RUNNING program with its stop
// signal (the whole group) and leaves it STOPPED, not restarted.
func TestProcessStop(t *testing.T) {
	p := startProc(t, workerSpec("sleep 600 & wait"))
	waitProcState(t, p, StateRunning)
	pid := p.status().PID
	if pid <= 0 {
		t.Fatalf("RUNNING without a pid: %+v", p.status())
	}
	stopProc(t, p)
	if st := p.status(); st.LastExit != "killed by SIGTERM" || st.Restarts != 0 {
		t.Errorf("status = %+v, want killed by SIGTERM, no restart", st)
	}
	if groupAlive(pid) {
		t.Errorf("process group %d survived the stop", pid)
	}
}

// TestProcessLaunchError: a program that cannot be started counts as a
// failed start with the launch error as last_error.
func TestProcessLaunchError(t *testing.T) {
	s := workerSpec("")
	s.Argv, s.Retries = []string{"/nonexistent/worker"}, 0
	p := startProc(t, s)
	waitProcState(t, p, StateFatal)
	if st := p.status(); !strings.Contains(st.LastError, "/nonexistent/worker") {
		t.Errorf("last_error = %q, want the launch error", st.LastError)
	}
}

// TestShouldRestart: the autorestart policy on an exit after RUNNING.
func TestShouldRestart(t *testing.T) {
	cases := []struct {
		policy string
		exit   exitInfo
		want   bool
	}{
		{"always", exitInfo{code: 0}, true},
		{"always", exitInfo{code: 1}, true},
		{"never", exitInfo{code: 1}, false},
		{"never", exitInfo{code: -1, signal: "KILL"}, false},
		{"unexpected", exitInfo{code: 0}, false},
		{"unexpected", exitInfo{code: 3}, false}, // listed in exitcodes
		{"unexpected", exitInfo{code: 1}, true},
		{"unexpected", exitInfo{code: -1, signal: "TERM"}, true},
	}
	for _, c := range cases {
		s := workerSpec("")
		s.Autorestart, s.ExitCodes = c.policy, []int{0, 3}
		if got := (&process{spec: s}).shouldRestart(c.exit); got != c.want {
			t.Errorf("autorestart %s, %s: restart = %v, want %v", c.policy, c.exit, got, c.want)
		}
	}
}

// TestBackoffDelay: the wait doubles from backoff for each restart in a
// row and never exceeds backoff_max.
func TestBackoffDelay(t *testing.T) {
	base, limit := time.Second, 30*time.Second
	var got []time.Duration
	for n := 1; n <= 7; n++ {
		got = append(got, backoffDelay(n, base, limit))
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}
	if d := backoffDelay(1000, base, limit); d != limit {
		t.Errorf("1000th restart waits %s, want %s", d, limit)
	}
}

// TestStableRun: a run counts as stable after 10s, or StartSecs if longer.
func TestStableRun(t *testing.T) {
	s := workerSpec("")
	s.StartSecs = time.Second
	if s.stableRun(9*time.Second) || !s.stableRun(10*time.Second) {
		t.Error("with startsecs 1s a run is stable from 10s")
	}
	s.StartSecs = time.Minute
	if s.stableRun(30*time.Second) || !s.stableRun(time.Minute) {
		t.Error("with startsecs 1m a run is stable from 1m")
	}
}
