package caddydjango

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
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
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a PID namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal(missingPackages("util-linux"))
	}
	if out, err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		// a container without CAP_SYS_ADMIN refuses it even to root
		t.Skipf("this machine refuses a new PID namespace even to root: %v %s", err, out)
	}
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
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", caddyBinary(t), "run", "--config", path, "--adapter", "caddyfile")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("caddy output:\n%s", out.String())
		}
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
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		caddyPID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
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
