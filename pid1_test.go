package caddydjango

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end test of Caddy as PID 1 of a container: orphans are reaped, its
// own processes still get their exit statuses, SIGTERM stops everything.

// TestPID1ReapsOrphans runs Caddy as PID 1 of a new PID namespace, as in a
// container: orphans reparented to it must be reaped (no zombies), and its
// own processes and release commands still get their exit statuses.
func TestPID1ReapsOrphans(t *testing.T) {
	t.Parallel()
	requirePIDNamespace(t)
	dir := t.TempDir()
	admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cf := globalBlock(admin, `
		release /bin/sh -c "echo release ran"
		process orphans /bin/sh -c "for i in 1 2 3 4 5; do (sleep 8 &); done; exec sleep 1000"
		process three /bin/sh -c "sleep 0.2; exit 3" {
			autorestart never
			startsecs 0
		}`)
	path := writeCaddyfile(t, dir, cf)
	// --kill-child: when unshare ends (killed by the cleanup below), the
	// kernel kills the namespace's PID 1, Caddy, and with it the whole
	// namespace: a failed run leaves nothing behind...
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "--mount-proc", caddyBinary(t), "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "GOTRACEBACK=all")
	// and unshare ends with this test binary, even one killed outright
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			// SIGABRT: Go prints every goroutine's stack (GOTRACEBACK=all)
			// as Caddy ends; Caddy handles SIGQUIT itself, without one
			if pid := namespacePID1(cmd.Process.Pid); pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGABRT)
				select {
				case <-exited:
				case <-time.After(10 * time.Second):
				}
			}
			t.Logf("caddy output:\n%s", out.String())
		}
		_ = cmd.Process.Kill()
	}()
	c := &caddyProc{t: t, admin: admin}
	waitFor(t, 30*time.Second, func() bool {
		resp, err := http.Get("http://" + admin + "/django/processes")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}, "caddy as PID 1")
	caddyPID := 0
	waitFor(t, 5*time.Second, func() bool {
		caddyPID = namespacePID1(cmd.Process.Pid)
		return caddyPID > 0
	}, "caddy's pid")
	children := func() (live, zombies int) {
		for _, pid := range testkit.PIDs() {
			comm, fields, ok := testkit.Stat(pid)
			if !ok || len(fields) < 2 || fields[1] != strconv.Itoa(caddyPID) || comm != "sleep" {
				continue
			}
			if fields[0] == "Z" {
				zombies++
			} else {
				live++
			}
		}
		return
	}
	// the five orphans are reparented to Caddy (plus the supervised sleep)...
	waitFor(t, 30*time.Second, func() bool { l, z := children(); return l+z >= 6 }, "orphans reparented to caddy")
	// ...and once they exit, reaped: no zombie stays
	waitFor(t, 30*time.Second, func() bool { l, z := children(); return l == 1 && z == 0 }, "orphans reaped (no zombies)")

	st := c.waitState("three", StateExited, 10*time.Second)
	if st.LastExit != "exit status 3" {
		t.Errorf("exit status under the reaper: %q", st.LastExit)
	}
	if !strings.Contains(out.String(), "release ran") {
		t.Errorf("release command output missing")
	}
	// SIGTERM to PID 1 (what `docker stop` sends) stops everything
	_ = syscall.Kill(caddyPID, syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("caddy as PID 1 exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("caddy as PID 1 did not stop on SIGTERM")
	}
}

// requirePIDNamespace skips the test where this machine cannot make a new
// PID namespace (as non-root, or in a container without CAP_SYS_ADMIN) and
// fails it without unshare.
func requirePIDNamespace(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a PID namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal(missingPackages("util-linux"))
	}
	if out, err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("this machine refuses a new PID namespace even to root: %v %s", err, out)
	}
}

// namespacePID1 returns the pid (in our namespace) of the child unshare
// forked, the new namespace's PID 1; 0 when there is none (yet).
func namespacePID1(unsharePID int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unsharePID, unsharePID))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// syncBuffer is a bytes.Buffer that a process's output is copied into while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
