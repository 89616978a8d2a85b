//go:build linux

package caddydjango

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests of the PID 1 reaper (proc_linux.go): the test binary re-runs itself
// as PID 1 of a new PID namespace, as Caddy runs in a container.

const envPID1Test = "CADDY_DJANGO_TEST_PID1"

// asPID1 reports whether this test runs as PID 1 of its own PID namespace
// (then the caller does the test); otherwise it runs the named test so,
// in a new namespace, and reports that run's result as its own.
func asPID1(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envPID1Test) == t.Name() {
		if os.Getpid() != 1 {
			t.Fatalf("%s=%s but this is pid %d, not 1", envPID1Test, t.Name(), os.Getpid())
		}
		return true
	}
	requirePIDNamespace(t)
	// not os.Args[0]: caddytest's in-process Caddy sets os.Args to "caddy run …"
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// --kill-child: nothing of the namespace outlives this test
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
		self, "-test.run", "^"+t.Name()+"$", "-test.count=1", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), envPID1Test+"="+t.Name(), "GOTRACEBACK=all")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // even if this binary is killed
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s as PID 1: %v\n%s", t.Name(), err, out)
	}
	return false
}

// TestPID1ExitStatusAfterReap: a program that exits before anyone waits
// for it (a release command printing one line, on a loaded machine) is
// reaped by the PID 1 reaper at once; waiting for it afterwards must
// still give its exit status, not "no child processes" and not a hang.
func TestPID1ExitStatusAfterReap(t *testing.T) {
	if !asPID1(t) {
		return
	}
	cmd := exec.Command("/bin/sh", "-c", "exit 7")
	if err := startCmd(cmd); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// the reaper reaps it on SIGCHLD: its /proc entry goes with the zombie
	waitFor(t, 10*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
		return os.IsNotExist(err)
	}, "the reaper to reap the program")
	got := make(chan exitInfo, 1)
	go func() { got <- waitCmd(cmd) }()
	select {
	case st := <-got:
		if st.String() != "exit status 7" {
			t.Errorf("exit of a program reaped before its wait: %q, want exit status 7", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waitCmd hangs for a program reaped before its wait")
	}
}
