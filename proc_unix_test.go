//go:build unix

package caddydjango

import (
	"errors"
	"syscall"
	"testing"
)

// TestParseSignal: names with or without SIG, any case, and numbers are
// accepted; anything else is a clear error.
func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "sigterm": syscall.SIGTERM, " SIGHUP ": syscall.SIGHUP,
		"ttin": syscall.SIGTTIN, "9": syscall.SIGKILL, "WINCH": syscall.SIGWINCH,
	} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "BOGUS", "0", "65", "SIG"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) accepted a bad signal", in)
		}
	}
}

// TestControlSignalsGoToTheLeader: HUP, TTIN, TTOU, USR1, USR2 and WINCH
// go to the program itself (Gunicorn's master passes them on); the stop
// signals go to its whole process group.
func TestControlSignalsGoToTheLeader(t *testing.T) {
	for _, name := range []string{"HUP", "TTIN", "TTOU", "USR1", "USR2", "WINCH"} {
		s, _ := parseSignal(name)
		if !isControlSignal(s) {
			t.Errorf("%s goes to the process group; want the program itself", name)
		}
	}
	for _, name := range []string{"TERM", "INT", "QUIT", "KILL", "CONT", "STOP", "ABRT", "ALRM"} {
		s, _ := parseSignal(name)
		if isControlSignal(s) {
			t.Errorf("%s goes to the program alone; want its whole group", name)
		}
	}
}

// TestSignalNeedsARunningProcess: signalling a process that is not running
// is a notRunningError (the admin API's 409), not a signal to a stale pid.
func TestSignalNeedsARunningProcess(t *testing.T) {
	p := newProcess(workerSpec("exit 0"), nil)
	err := p.signal("HUP")
	var nr notRunningError
	if !errors.As(err, &nr) || err.Error() != "worker is not running (STOPPED)" {
		t.Errorf("signal to a stopped process: %v, want worker is not running (STOPPED)", err)
	}
}

// TestSignalName: exit statuses name the signal that killed the program.
func TestSignalName(t *testing.T) {
	if got := signalName(syscall.SIGTERM); got != "TERM" {
		t.Errorf("signalName(SIGTERM) = %q", got)
	}
	if got := (exitInfo{code: -1, signal: "KILL"}).String(); got != "killed by SIGKILL" {
		t.Errorf("exitInfo = %q", got)
	}
}
