package caddydjango

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of process supervision with small shell programs:
// restart policies, retries and backoff, priorities, essential processes,
// and what a process is started with (environment, directory, user).

func TestProcessRestartPolicies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		process always /bin/sh -c "echo up; exit 0" {
			startsecs 0
			backoff 50ms
		}
		process unexpected_ok /bin/sh -c "exit 0" {
			autorestart unexpected
			startsecs 0
		}
		process unexpected_bad /bin/sh -c "exit 3" {
			autorestart unexpected
			exitcodes 0 2
			startsecs 0
			backoff 50ms
		}
		process expected_two /bin/sh -c "exit 2" {
			autorestart unexpected
			exitcodes 0 2
			startsecs 0
		}
		process never /bin/sh -c "exit 1" {
			autorestart never
			startsecs 0
		}`)
	// always: a clean exit 0 comes back (django-tasks' db_worker --max-tasks)
	waitFor(t, 20*time.Second, func() bool { return c.statuses()["always"].Restarts >= 3 }, "always to restart 3 times")
	st := c.waitState("unexpected_ok", StateExited, 10*time.Second)
	if st.LastExit != "exit status 0" || st.Restarts != 0 {
		t.Errorf("unexpected_ok: %+v", st)
	}
	c.waitState("expected_two", StateExited, 10*time.Second)
	waitFor(t, 20*time.Second, func() bool { return c.statuses()["unexpected_bad"].Restarts >= 2 }, "unexpected_bad to restart")
	st = c.waitState("never", StateExited, 10*time.Second)
	if st.LastExit != "exit status 1" || st.Restarts != 0 {
		t.Errorf("never: %+v", st)
	}
}

func TestProcessStartRetriesThenFatalWithBackoff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		process crashy /bin/sh -c "echo crashing; exit 7" {
			startsecs 1s
			startretries 3
			backoff 100ms
			backoff_max 400ms
		}
		process missing /nonexistent/program --flag {
			startretries 1
			backoff 50ms
		}`)
	st := c.waitState("crashy", StateFatal, 20*time.Second)
	starts := c.waitEntries(4, 5*time.Second, "crashy's 4 starts in the log", msgIs("process started", isProcess("crashy")))
	if len(starts) != 4 {
		t.Fatalf("crashy started %d times, want 1 + startretries(3)", len(starts))
	}
	if st.LastExit != "exit status 7" {
		t.Errorf("last exit %q", st.LastExit)
	}
	// capped exponential backoff: 100ms, 200ms, 400ms between the starts
	var gaps []float64
	for i := 1; i < len(starts); i++ {
		gaps = append(gaps, starts[i]["ts"].(float64)-starts[i-1]["ts"].(float64))
	}
	for i, want := range []float64{0.1, 0.2, 0.4} {
		if gaps[i] < want {
			t.Errorf("gap %d = %.3fs, want at least %.1fs (gaps %v)", i, gaps[i], want, gaps)
		}
	}
	isCrashing := msgIs("crashing", func(e logEntry) bool { return e.str("logger") == "django.crashy" })
	if n := len(c.waitEntries(4, 5*time.Second, "each start's output line in the log", isCrashing)); n != 4 {
		t.Errorf("%d output lines logged, want one per start (4)", n)
	}

	// a program that cannot be executed: BACKOFF, then FATAL with the OS error
	st = c.waitState("missing", StateFatal, 10*time.Second)
	if !strings.Contains(st.LastError, "no such file or directory") {
		t.Errorf("missing: last_error %q should carry the OS error", st.LastError)
	}
	c.waitLog(5*time.Second, "the OS error in the log", func(e logEntry) bool {
		return e.str("msg") == "cannot start process" && strings.Contains(e.str("error"), "no such file")
	})
}

func TestCaddyKeepsServingWhenAProcessCannotStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
		process missing /nonexistent/program {
			startretries 0
		}`) + fmt.Sprintf("\n:%d {\n\trespond \"still serving\"\n}\n", port)
	})
	c.waitState("missing", StateFatal, 10*time.Second)
	if code, body := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port)); code != 200 || body != "still serving" {
		t.Fatalf("site: %d %q", code, body)
	}
}

func TestPriorityOrdersStartAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		process b /bin/sleep 1000 {
			priority 20
		}
		process a /bin/sleep 1000 {
			priority 10
		}
		process c /bin/sleep 1000`)
	for _, n := range []string{"a", "b", "c"} {
		c.waitState(n, StateRunning, 10*time.Second)
	}
	c.waitEntries(3, 5*time.Second, "3 starts in the log", msgIs("process started"))
	order := func(msg string) []string {
		var out []string
		for _, e := range c.entries(msgIs(msg)) {
			out = append(out, e.str("process"))
		}
		return out
	}
	if got := strings.Join(order("process started"), ","); got != "a,b,c" {
		t.Errorf("start order %s, want a,b,c (lower priority first)", got)
	}
	c.signalAndWait(syscall.SIGTERM, 20*time.Second)
	if got := strings.Join(order("stopping process"), ","); got != "c,b,a" {
		t.Errorf("stop order %s, want c,b,a", got)
	}
}

func TestEssentialFatalExitsCaddy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "other.pid")
	c := startWithDjango(t, dir, fmt.Sprintf(`
		process other /bin/sh -c "echo $$ > %s; exec sleep 1000" {
			priority 1
			startsecs 0
		}
		process vital /bin/sh -c "sleep 0.5; exit 1" {
			essential
			startretries 1
			backoff 50ms
		}`, pidFile))
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("caddy kept running after an essential process went FATAL")
	}
	if c.state.ExitCode() == 0 {
		t.Fatalf("caddy exit code 0, want non-zero so the container restarts")
	}
	c.waitLog(time.Second, "the reason in the log", msgIs("essential process is FATAL: Caddy exits so the container is restarted"))
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid == 0 || testkit.Alive(pid) {
		t.Errorf("other process %d left running (or no pid)", pid)
	}
}

func TestEnvEnvFileAndDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	envFile := "# settings\nexport FROM_FILE=\"file value\"\nQUOTED='single # not a comment'\nOVERRIDE=from-file\n\n"
	mustWrite(t, filepath.Join(dir, ".env"), envFile)
	out := filepath.Join(dir, "out.txt")
	c := startWithDjango(t, dir, fmt.Sprintf(`
		root %s
		env APP_WIDE "app wide"
		env OVERRIDE from-caddyfile
		env_file .env
		process show /bin/sh -c "echo \"$APP_WIDE|$FROM_FILE|$QUOTED|$OVERRIDE|$PER_PROCESS|$INHERITED|$(pwd)\" > %s; exec sleep 1000" {
			env PER_PROCESS "only here"
			dir sub
		}`, dir, out), "INHERITED=from-caddy-env")
	c.waitState("show", StateRunning, 10*time.Second)
	var got string
	waitFor(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(out)
		got = strings.TrimSpace(string(b))
		return got != ""
	}, "output file")
	want := "app wide|file value|single # not a comment|from-file|only here|from-caddy-env|" + filepath.Join(dir, "sub")
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestUserOption(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		process who /bin/sh -c "echo uid=$(id -u) gid=$(id -g); exec sleep 1000" {
			user nobody
			dir /
		}`)
	c.waitState("who", StateRunning, 10*time.Second)
	c.waitLog(10*time.Second, "the process running as nobody", func(e logEntry) bool {
		return e.str("logger") == "django.who" && e.str("msg") == "uid=65534 gid=65534"
	})
}

// TestProcessesCostOneThreadEach: Caddy holds one OS thread per running
// process (the one that started it waits for it: Linux's parent-death
// signal is tied to that thread). Before, the watchdog beside each process
// was waited for by a goroutine of its own, blocked in a wait system call:
// a second thread per process (407 threads for 200 processes).
func TestProcessesCostOneThreadEach(t *testing.T) {
	t.Parallel()
	const n = 40
	var procs strings.Builder
	for i := range n {
		fmt.Fprintf(&procs, "\t\tprocess p%d /bin/sleep 1000\n", i)
	}
	c := startWithDjango(t, t.TempDir(), procs.String())
	waitFor(t, 60*time.Second, func() bool {
		running := 0
		for _, st := range c.statuses() {
			if st.State == StateRunning {
				running++
			}
		}
		return running == n
	}, fmt.Sprintf("%d processes RUNNING", n))
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	threads := 0
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	// Go's own threads: GOMAXPROCS, the sysmon, a few blocked in system
	// calls; 30 is far more than they take here
	t.Logf("%d threads for %d processes", threads, n)
	if threads == 0 || threads > n+30 {
		t.Errorf("Caddy has %d threads for %d processes; want at most %d (one per process and Go's own)", threads, n, n+30)
	}
}
