package caddydjango

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests run a real Caddy binary with this plugin (built on first
// use, see caddyBinary) as a child process, configured by a Caddyfile and
// driven through its admin API and signals, as users do.

// caddyBuild is the Caddy under test, built once per test binary by the
// first test that needs it.
var caddyBuild struct {
	once sync.Once
	dir  string // the temporary directory it was built in (TestMain removes it)
	path string
	err  error
}

// caddyBinary returns the Caddy under test: the binary that
// CADDY_DJANGO_TEST_CADDY names (scripts/test.sh passes the one xcaddy built
// from this tree), or else one built from ./cmd/caddy the first time a test
// asks for it, so that tests that need no Caddy binary never wait for it.
func caddyBinary(t testing.TB) string {
	t.Helper()
	caddyBuild.once.Do(buildCaddy)
	if caddyBuild.err != nil {
		t.Fatal(caddyBuild.err)
	}
	return caddyBuild.path
}

// buildCaddy builds ./cmd/caddy with the flags xcaddy uses, so that both
// builds share Go's build cache.
func buildCaddy() {
	if p := os.Getenv("CADDY_DJANGO_TEST_CADDY"); p != "" {
		caddyBuild.path = p
		return
	}
	dir, err := os.MkdirTemp("", "caddy-django-bin-")
	if err != nil {
		caddyBuild.err = err
		return
	}
	caddyBuild.dir = dir
	path := filepath.Join(dir, "caddy")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-w -s", "-tags", "nobadger,nomysql,nopgx",
		"-o", path, "./cmd/caddy")
	if out, err := build.CombinedOutput(); err != nil {
		caddyBuild.err = fmt.Errorf("building caddy: %v\n%s", err, out)
		return
	}
	caddyBuild.path = path
}

// TestMain removes what the tests left in the system's temporary directory:
// the Caddy build and the prepared copy of the demo project.
func TestMain(m *testing.M) {
	code := m.Run()
	if caddyBuild.dir != "" {
		os.RemoveAll(caddyBuild.dir)
	}
	if prepared != "" {
		os.RemoveAll(prepared)
	}
	os.Exit(code)
}

type logEntry map[string]any

func (e logEntry) str(k string) string {
	v, _ := e[k].(string)
	return v
}

func (e logEntry) num(k string) int {
	v, _ := e[k].(float64)
	return int(v)
}

// caddyProc is a running Caddy.
type caddyProc struct {
	t      testing.TB
	cmd    *exec.Cmd
	dir    string
	admin  string
	mu     sync.Mutex
	logs   []logEntry
	other  []string // stderr lines that are not JSON
	exited chan struct{}
	state  *os.ProcessState
}

// startCaddy runs `caddy run` with the Caddyfile that mk builds for the
// admin address it is given.
func startCaddy(t testing.TB, dir string, mk func(admin string) string, env ...string) *caddyProc {
	t.Helper()
	admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(mk(admin)), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &caddyProc{t: t, dir: dir, admin: admin, exited: make(chan struct{})}
	c.cmd = exec.Command(caddyBinary(t), "run", "--config", path, "--adapter", "caddyfile")
	c.cmd.Dir = dir
	c.cmd.Env = append(os.Environ(), env...)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stdout = io.Discard
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		br := bufio.NewReaderSize(stderr, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				var e logEntry
				c.mu.Lock()
				if json.Unmarshal(line, &e) == nil {
					c.logs = append(c.logs, e)
				} else {
					c.other = append(c.other, string(line))
				}
				c.mu.Unlock()
			}
			if err != nil {
				break
			}
		}
		_ = c.cmd.Wait()
		c.state = c.cmd.ProcessState
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.exited:
			case <-time.After(60 * time.Second):
				_ = c.cmd.Process.Kill()
				<-c.exited
			}
		}
		if t.Failed() {
			c.dumpLogs()
		}
	})
	waitFor(t, 30*time.Second, func() bool {
		select {
		case <-c.exited:
			c.dumpLogs()
			t.Fatalf("caddy exited at start: %v", c.state)
		default:
		}
		resp, err := http.Get("http://" + admin + "/config/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}, "caddy's admin API")
	return c
}

func (c *caddyProc) dumpLogs() {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.logs)
	from := max(0, n-80)
	for _, e := range c.logs[from:] {
		b, _ := json.Marshal(e)
		if len(b) > 400 {
			b = append(b[:400], "…"...)
		}
		c.t.Logf("caddy log: %s", b)
	}
	for _, l := range c.other {
		c.t.Logf("caddy stderr: %s", strings.TrimSpace(l))
	}
}

// entries returns the log entries that match.
func (c *caddyProc) entries(match func(logEntry) bool) []logEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []logEntry
	for _, e := range c.logs {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

func (c *caddyProc) waitLog(timeout time.Duration, what string, match func(logEntry) bool) logEntry {
	c.t.Helper()
	var found logEntry
	waitFor(c.t, timeout, func() bool {
		if es := c.entries(match); len(es) > 0 {
			found = es[0]
			return true
		}
		return false
	}, what)
	return found
}

// waitEntries waits until at least n log entries match and returns them.
// Caddy's log reaches the test through a pipe read by another goroutine, so
// an entry Caddy wrote before answering an admin request may not have been
// read yet when that answer arrives.
func (c *caddyProc) waitEntries(n int, timeout time.Duration, what string, match func(logEntry) bool) []logEntry {
	c.t.Helper()
	var es []logEntry
	waitFor(c.t, timeout, func() bool {
		es = c.entries(match)
		return len(es) >= n
	}, what)
	return es
}

func (c *caddyProc) statuses() map[string]ProcessStatus {
	c.t.Helper()
	resp, err := http.Get("http://" + c.admin + "/django/processes")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []ProcessStatus
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		c.t.Fatalf("decoding status: %v", err)
	}
	out := map[string]ProcessStatus{}
	for _, s := range list {
		out[s.Name] = s
	}
	return out
}

// waitState waits until process name is in state and returns its status.
func (c *caddyProc) waitState(name, state string, timeout time.Duration) ProcessStatus {
	c.t.Helper()
	var st ProcessStatus
	waitFor(c.t, timeout, func() bool {
		st = c.statuses()[name]
		return st.State == state
	}, fmt.Sprintf("%s to be %s (last seen %+v)", name, state, &st))
	return st
}

// adminClient opens a new connection per request: Caddy replaces its admin
// server on every config load, and a kept-alive connection to the old one
// can be reset under the next request.
var adminClient = &http.Client{Timeout: 120 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// reload loads a new Caddyfile through the admin API. Caddy also replaces
// its admin listener (a new SO_REUSEPORT socket) on every load, so a request
// arriving as the old one closes can be reset before Caddy reads it; that
// is retried (loading the same config again is a no-op).
func (c *caddyProc) reload(caddyfile string) error {
	var resp *http.Response
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, "http://"+c.admin+"/load", strings.NewReader(caddyfile))
		req.Header.Set("Content-Type", "text/caddyfile")
		if resp, err = adminClient.Do(req); err == nil || !strings.Contains(err.Error(), "connection reset") {
			break
		}
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reload: %s: %s", resp.Status, body)
	}
	return nil
}

func (c *caddyProc) post(path string) (int, string) {
	c.t.Helper()
	resp, err := adminClient.Post("http://"+c.admin+path, "", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// signal sends sig to Caddy and waits (bounded) for it to exit.
func (c *caddyProc) signalAndWait(sig syscall.Signal, timeout time.Duration) *os.ProcessState {
	c.t.Helper()
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
		return c.state
	case <-time.After(timeout):
		c.t.Fatalf("caddy did not exit within %s after %v", timeout, sig)
		return nil
	}
}

// groupMembers lists live processes in process group pgid.
func groupMembers(pgid int) []int {
	var out []int
	for _, pid := range testkit.PIDs() {
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid && testkit.Alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

func isProcess(name string) func(logEntry) bool {
	return func(e logEntry) bool { return e.str("process") == name }
}

func msgIs(msg string, and ...func(logEntry) bool) func(logEntry) bool {
	return func(e logEntry) bool {
		if e.str("msg") != msg {
			return false
		}
		for _, f := range and {
			if !f(e) {
				return false
			}
		}
		return true
	}
}

func globalBlock(admin, django string) string {
	return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n\tdjango {\n%s\n\t}\n}\n", admin, django)
}

// --- lifecycle with small shell programs ---

func TestProcessRestartPolicies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
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
	})
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
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
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
	})
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

func TestStopEscalatesToKillingTheGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// the shell and its child both ignore TERM
	script := fmt.Sprintf(`trap "" TERM; sleep 1000 & echo $! > %s; wait`, pidFile)
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, fmt.Sprintf(`
		process stubborn /bin/sh -c %q {
			stop_timeout 300ms
		}`, script))
	})
	st := c.waitState("stubborn", StateRunning, 10*time.Second)
	var child int
	waitFor(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return child > 0
	}, "child pid")
	if len(groupMembers(st.PID)) < 2 {
		t.Fatalf("expected the shell and its child in group %d", st.PID)
	}
	state := c.signalAndWait(syscall.SIGTERM, 15*time.Second)
	if !state.Success() {
		t.Errorf("caddy exit: %v", state)
	}
	if testkit.Alive(st.PID) || testkit.Alive(child) {
		t.Fatalf("left running: shell %v, child %v", testkit.Alive(st.PID), testkit.Alive(child))
	}
	if len(c.entries(msgIs("process did not stop in time; killing its process group"))) != 1 {
		t.Error("expected the escalation to be logged")
	}
}

func TestPriorityOrdersStartAndStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
		process b /bin/sleep 1000 {
			priority 20
		}
		process a /bin/sleep 1000 {
			priority 10
		}
		process c /bin/sleep 1000`)
	})
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

func TestEnvEnvFileAndDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	envFile := "# settings\nexport FROM_FILE=\"file value\"\nQUOTED='single # not a comment'\nOVERRIDE=from-file\n\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(envFile), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, fmt.Sprintf(`
		root %s
		env APP_WIDE "app wide"
		env OVERRIDE from-caddyfile
		env_file .env
		process show /bin/sh -c "echo \"$APP_WIDE|$FROM_FILE|$QUOTED|$OVERRIDE|$PER_PROCESS|$INHERITED|$(pwd)\" > %s; exec sleep 1000" {
			env PER_PROCESS "only here"
			dir sub
		}`, dir, out))
	}, "INHERITED=from-caddy-env")
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

func TestOutputLinesBecomeLogEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "talk.sh")
	// 2000 numbered lines on stdout, interleaved stderr lines, a 300 KB line,
	// CRLF, and a final line without a newline.
	body := `i=0
while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done
echo "to stderr" >&2
head -c 300000 /dev/zero | tr '\0' x; echo
printf 'windows\r\n'
printf 'no newline at end'
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, "\t\tprocess talk /bin/sh "+script+" {\n\t\t\tautorestart never\n\t\t\tstartsecs 0\n\t\t}")
	})
	isTalk := func(e logEntry) bool { return e.str("logger") == "django.talk" }
	c.waitLog(20*time.Second, "last line", func(e logEntry) bool { return isTalk(e) && e.str("msg") == "no newline at end" })
	var stdout []string
	pid := c.entries(msgIs("process started", isProcess("talk")))[0].num("pid")
	for _, e := range c.entries(isTalk) {
		if e.num("pid") != pid {
			t.Fatalf("entry without the right pid: %v", e)
		}
		if e.str("stream") == "stdout" {
			stdout = append(stdout, e.str("msg"))
		} else if e.str("msg") != "to stderr" || e.str("stream") != "stderr" {
			t.Fatalf("unexpected entry %v", e)
		}
	}
	if len(stdout) != 2003 {
		t.Fatalf("got %d stdout entries, want 2003", len(stdout))
	}
	for i := 0; i < 2000; i++ {
		if stdout[i] != fmt.Sprintf("line %d", i) {
			t.Fatalf("entry %d = %q: lines lost, split or reordered", i, stdout[i])
		}
	}
	if stdout[2000] != strings.Repeat("x", 300000) {
		t.Errorf("long line: %d bytes", len(stdout[2000]))
	}
	if stdout[2001] != "windows" {
		t.Errorf("CRLF line = %q", stdout[2001])
	}
}

func TestReloadKeepsUnchangedReplacesChangedStopsRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	cfg := func(admin, changedArg, site string, withRemoved bool) string {
		procs := fmt.Sprintf(`
		process same /bin/sleep 1001
		process changed /bin/sleep %s`, changedArg)
		if withRemoved {
			procs += "\n\t\tprocess removed /bin/sleep 1003"
		}
		return globalBlock(admin, procs) + fmt.Sprintf("\n:%d {\n\trespond %q\n}\n", port, site)
	}
	var admin string
	c := startCaddy(t, dir, func(a string) string { admin = a; return cfg(a, "1002", "one", true) })
	before := map[string]int{}
	for _, n := range []string{"same", "changed", "removed"} {
		before[n] = c.waitState(n, StateRunning, 10*time.Second).PID
	}

	// an unrelated change (the site's response) restarts nothing
	if err := c.reload(cfg(admin, "1002", "two", true)); err != nil {
		t.Fatal(err)
	}
	resp := getAfterReload(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "two" {
		t.Fatalf("reload did not apply: %q", body)
	}
	for n, pid := range before {
		if st := c.statuses()[n]; st.PID != pid || st.State != StateRunning {
			t.Fatalf("%s changed on an unrelated reload: %+v (was pid %d)", n, st, pid)
		}
	}

	if err := c.reload(cfg(admin, "2002", "three", false)); err != nil {
		t.Fatal(err)
	}
	st := c.statuses()
	if st["same"].PID != before["same"] {
		t.Errorf("unchanged process restarted: %d -> %d", before["same"], st["same"].PID)
	}
	if _, ok := st["removed"]; ok {
		t.Errorf("removed process still listed")
	}
	if testkit.Alive(before["removed"]) {
		t.Errorf("removed process %d still running", before["removed"])
	}
	if testkit.Alive(before["changed"]) {
		t.Errorf("old generation of changed process %d still running", before["changed"])
	}
	now := c.waitState("changed", StateRunning, 10*time.Second)
	if now.PID == before["changed"] {
		t.Errorf("changed process kept its pid")
	}
	if !strings.Contains(strings.Join(now.Command, " "), "2002") {
		t.Errorf("changed process runs %v", now.Command)
	}

	pids := []int{st["same"].PID, now.PID}
	c.signalAndWait(syscall.SIGTERM, 20*time.Second)
	for _, pid := range pids {
		if testkit.Alive(pid) {
			t.Errorf("pid %d left running after caddy stopped", pid)
		}
	}
}

func TestEssentialFatalExitsCaddy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "other.pid")
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, fmt.Sprintf(`
		process other /bin/sh -c "echo $$ > %s; exec sleep 1000" {
			priority 1
			startsecs 0
		}
		process vital /bin/sh -c "sleep 0.5; exit 1" {
			essential
			startretries 1
			backoff 50ms
		}`, pidFile))
	})
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

func TestValidateAndAdaptStartNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "started")
	cf := fmt.Sprintf("{\n\tdjango {\n\t\trelease /bin/touch %s\n\t\tprocess p /bin/touch %s\n\t}\n}\n", marker, marker)
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"adapt", "validate"} {
		out, err := exec.Command(caddyBinary(t), sub, "--config", path, "--adapter", "caddyfile").CombinedOutput()
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", sub, err, out)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("caddy adapt/validate started a process")
	}
}

func TestSIGKILLedCaddyLeavesNoProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
		process tree /bin/sh -c "sleep 1000 & sleep 1000 & wait"`)
	})
	st := c.waitState("tree", StateRunning, 10*time.Second)
	waitFor(t, 5*time.Second, func() bool { return len(groupMembers(st.PID)) == 3 }, "the shell and its two children")
	members := groupMembers(st.PID)
	c.signalAndWait(syscall.SIGKILL, 5*time.Second)
	waitFor(t, time.Second, func() bool {
		for _, pid := range members {
			if testkit.Alive(pid) {
				return false
			}
		}
		return true
	}, "every process of the group to die within a second of caddy's SIGKILL")
}

// TestPID1ReapsOrphans runs Caddy as PID 1 of a new PID namespace, as in a
// container: orphans reparented to it must be reaped (no zombies), and its
// own processes and release commands still get their exit statuses.
func TestPID1ReapsOrphans(t *testing.T) {
	t.Parallel()
	if err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").Run(); err != nil {
		t.Skipf("cannot create a PID namespace here (needs root): %v", err)
	}
	dir := t.TempDir()
	admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cf := globalBlock(admin, `
		release /bin/sh -c "echo release ran"
		process orphans /bin/sh -c "for i in 1 2 3 4 5; do (sleep 3 &); done; exec sleep 1000"
		process three /bin/sh -c "sleep 0.2; exit 3" {
			autorestart never
			startsecs 0
		}`)
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
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
	waitFor(t, 10*time.Second, func() bool { l, z := children(); return l+z >= 6 }, "orphans reparented to caddy")
	// ...and once they exit, reaped: no zombie stays
	waitFor(t, 10*time.Second, func() bool { l, z := children(); return l == 1 && z == 0 }, "orphans reaped (no zombies)")

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

func TestUserOption(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	dir := t.TempDir()
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
		process who /bin/sh -c "echo uid=$(id -u) gid=$(id -g); exec sleep 1000" {
			user nobody
			dir /
		}`)
	})
	c.waitState("who", StateRunning, 10*time.Second)
	c.waitLog(10*time.Second, "the process running as nobody", func(e logEntry) bool {
		return e.str("logger") == "django.who" && e.str("msg") == "uid=65534 gid=65534"
	})
}
