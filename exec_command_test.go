package caddydjango

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `caddy django exec` through a real Caddy: the running app's environment,
// root, stdin and the exit code.

// runExecCLI runs `caddy django exec args...` with stdin.
func runExecCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIInput(t, stdin, append([]string{"exec"}, args...)...)
}

func TestExecRunsWithTheAppsEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, ".env"), "FROM_FILE=file-value\n")
	c := startWithDjango(t, dir, `
		root `+dir+`
		env FROM_APP app-value
		env_file .env`)
	waitFor(t, 30*time.Second, func() bool { _, _, code := runExecCLI(t, "", "--address", c.admin, "true"); return code == 0 }, "exec to work")
	out, errOut, code := runExecCLI(t, "hello from stdin\n", "--address", c.admin, "--",
		"sh", "-c", `read line; echo "$line|$FROM_APP|$FROM_FILE|$(pwd)"; echo oops >&2; exit 7`)
	if want := "hello from stdin|app-value|file-value|" + dir + "\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if errOut != "oops\n" || code != 7 {
		t.Errorf("stderr %q, exit %d; want oops and 7", errOut, code)
	}
	// flags after the command are the command's own
	out, _, code = runExecCLI(t, "", "--address", c.admin, "echo", "--address", "-n")
	if out != "--address -n\n" || code != 0 {
		t.Errorf("echo --address -n: %q, exit %d", out, code)
	}
}

func TestExecWithoutCaddy(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	out, errOut, code := runExecCLI(t, "", "--address", addr, "true")
	if code == 0 || out != "" || !strings.Contains(errOut, "cannot reach Caddy's admin API at "+addr+": is Caddy running?") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestExecRunsAsTheAppServersUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // nobody must enter root
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := startWithDjango(t, dir, `
		root `+dir+`
		gunicorn demo.wsgi:application {
			user nobody
			enabled false
		}`)
	out, errOut, code := runExecCLI(t, "", "--address", c.admin, "id", "-u")
	if out != "65534\n" || code != 0 {
		t.Errorf("id -u: %q (stderr %q), exit %d; want 65534 (nobody)", out, errOut, code)
	}
}
