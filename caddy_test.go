package caddydjango

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// The end-to-end harness: a real Caddy binary with this plugin (built on
// first use, see caddyBinary) run as a child process, configured by a
// Caddyfile and driven through its admin API and signals, as users do; its
// JSON log is read back for assertions.

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
	keepInheritedFDs()
	useTestDjango()
	code := m.Run()
	if caddyBuild.dir != "" {
		os.RemoveAll(caddyBuild.dir)
	}
	if prepared != "" {
		os.RemoveAll(prepared)
	}
	os.Exit(code)
}

// keepInheritedFDs marks the files this test binary inherited beyond
// stdin, stdout and stderr close-on-exec: a fuzz worker inherits its pipes
// to the fuzzing coordinator, and a Caddy it started must not hold them
// (the coordinator waits for their end before it stops).
func keepInheritedFDs() {
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
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
	return startCaddyVia(t, nil, dir, mk, env...)
}

// startCaddyVia is startCaddy with Caddy's command line appended to prefix,
// a command that ends by exec'ing its arguments (e.g. `unshare ... sh -c`).
func startCaddyVia(t testing.TB, prefix []string, dir string, mk func(admin string) string, env ...string) *caddyProc {
	t.Helper()
	admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	path := writeCaddyfile(t, dir, mk(admin))
	c := &caddyProc{t: t, dir: dir, admin: admin, exited: make(chan struct{})}
	argv := append(slices.Clone(prefix), caddyBinary(t), "run", "--config", path, "--adapter", "caddyfile")
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Dir = dir
	c.cmd.Env = append(os.Environ(), env...)
	// Caddy ends with this test binary, even one killed outright (a fuzz
	// worker the coordinator stops)
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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

// writeCaddyfile writes content to dir/Caddyfile and returns its path.
func writeCaddyfile(t testing.TB, dir, content string) string {
	t.Helper()
	path := filepath.Join(dir, "Caddyfile")
	mustWrite(t, path, content)
	return path
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
	resp, err := adminClient.Get("http://" + c.admin + "/django/processes")
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
// can be reset under the next request. Even a new connection can meet the
// old admin listener as it closes (reset, or closed unanswered): a GET that
// got no answer is sent again.
var adminClient = &http.Client{Timeout: 120 * time.Second, Transport: retryUnanswered{&http.Transport{DisableKeepAlives: true}}}

// retryUnanswered sends a GET again (up to 3 times) when it got no answer
// because the connection was reset or closed before a response.
type retryUnanswered struct{ http.RoundTripper }

func (rt retryUnanswered) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := rt.RoundTripper.RoundTrip(req)
		if err == nil || req.Method != http.MethodGet || attempt == 3 || !unanswered(err) {
			return resp, err
		}
	}
}

// unanswered reports whether err means the server closed or reset the
// connection without answering.
func unanswered(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

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
		// Caddy replaces its admin server on every load: a request can meet
		// the old one closing (reset, or EOF on a kept-alive connection).
		// Loading the same config again is a no-op, so it is safe to retry.
		if resp, err = adminClient.Do(req); err == nil || !unanswered(err) {
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

// startWithDjango runs Caddy with a global options block whose django
// block is django, and no site.
func startWithDjango(t testing.TB, dir, django string, env ...string) *caddyProc {
	t.Helper()
	return startCaddy(t, dir, func(admin string) string { return globalBlock(admin, django) }, env...)
}

func globalBlock(admin, django string) string {
	return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n\tdjango {\n%s\n\t}\n}\n", admin, django)
}
