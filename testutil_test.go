package caddydjango

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// Test fixtures shared by the package's tests: a copy of the real demo
// Django project (testdata/demo) with migrate and collectstatic done, a
// real Gunicorn serving it, and small helpers (ports, polling, HTTP, files).

const (
	systemPython   = "/usr/bin/python3" // Debian's, with python3-django
	systemGunicorn = "/usr/bin/gunicorn"
)

type djangoProject struct {
	Root        string
	StaticRoot  string
	MediaRoot   string
	PrivateRoot string
	DB          string
	Heartbeat   string
	// Env is the environment for manage.py and Gunicorn (os.Environ plus
	// DJANGO_* variables pointing at this copy).
	Env []string
}

var (
	prepared     string
	prepareOnce  sync.Once
	prepareError error
)

// The Django under test: Debian's (/usr/bin/python3's own), or another one
// put first on every Python process's PYTHONPATH by
// CADDY_DJANGO_TEST_PYTHONPATH (scripts/test.sh's second run: Django 4.2
// from bookworm-backports, see django42_path in scripts/lib.sh), which
// CADDY_DJANGO_TEST_DJANGO may require to be a given version ("4.2").
const (
	envTestPythonPath = "CADDY_DJANGO_TEST_PYTHONPATH"
	envTestDjango     = "CADDY_DJANGO_TEST_DJANGO"
)

// useTestDjango puts CADDY_DJANGO_TEST_PYTHONPATH first on this process's
// PYTHONPATH, which every process the tests start inherits (manage.py,
// Gunicorn, Caddy and the programs it supervises), and prints once which
// Django the tests run. TestMain calls it.
func useTestDjango() {
	if extra := os.Getenv(envTestPythonPath); extra != "" {
		if old := os.Getenv("PYTHONPATH"); old != "" {
			extra += string(os.PathListSeparator) + old
		}
		os.Setenv("PYTHONPATH", extra)
	}
	if dj := djangoUnderTest(); dj.err != nil {
		fmt.Printf("Django under test: none (%v)\n", dj.err)
	} else {
		fmt.Printf("Django under test: %s from %s (PYTHONPATH=%s)\n", dj.version, dj.dir, os.Getenv("PYTHONPATH"))
	}
}

// djangoInfo is the Django that /usr/bin/python3 imports in the tests'
// environment.
type djangoInfo struct {
	version, dir string
	err          error
}

// djangoUnderTest asks /usr/bin/python3 which Django it imports (once per
// test binary), and checks it against what was asked for: imported from
// CADDY_DJANGO_TEST_PYTHONPATH when that is set, of version
// CADDY_DJANGO_TEST_DJANGO when that is set.
var djangoUnderTest = sync.OnceValue(func() djangoInfo {
	out, err := exec.Command(systemPython, "-c",
		"import django, os; print(django.get_version()); print(os.path.dirname(os.path.dirname(django.__file__)))").Output()
	if err != nil {
		return djangoInfo{err: fmt.Errorf("%s cannot import django: %v", systemPython, err)}
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	dj := djangoInfo{version: version, dir: dir}
	if want := os.Getenv(envTestPythonPath); want != "" && filepath.Clean(want) != filepath.Clean(dir) {
		dj.err = fmt.Errorf("%s=%s, but %s imports Django %s from %s: no Django there?", envTestPythonPath, want, systemPython, version, dir)
	} else if want := os.Getenv(envTestDjango); want != "" && version != want && !strings.HasPrefix(version, want+".") {
		dj.err = fmt.Errorf("%s=%s, but %s imports Django %s from %s", envTestDjango, want, systemPython, version, dir)
	}
	return dj
})

// requireDjango fails the test when the real Gunicorn or Django is missing,
// naming the Debian packages and the command that installs them (these
// tests run the real thing, and a missing package is no reason to pass;
// .ci/run installs them), or when the Django asked for is not the one
// Python imports.
func requireDjango(t testing.TB) {
	t.Helper()
	if missing := missingDjangoPackages(); len(missing) > 0 {
		t.Fatal(missingPackages(missing...))
	}
	if err := djangoUnderTest().err; err != nil {
		t.Fatal(err)
	}
}

// missingDjangoPackages lists the Debian packages of Gunicorn and Django
// that are not installed (looked up once per test binary).
var missingDjangoPackages = sync.OnceValue(func() []string {
	var missing []string
	if _, err := os.Stat(systemGunicorn); err != nil {
		missing = append(missing, "gunicorn")
	}
	if os.Getenv(envTestPythonPath) == "" && djangoUnderTest().version == "" { // not importable
		missing = append(missing, "python3-django")
	}
	return missing
})

// missingPackages is the failure message for Debian packages a test needs
// and does not find.
func missingPackages(pkgs ...string) string {
	return fmt.Sprintf("missing Debian package(s) %s: install with `sudo apt-get install -y %s`",
		strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
}

// newDjangoProject returns a private copy of testdata/demo, migrated and
// with static files collected (done once per test binary, then copied).
func newDjangoProject(t testing.TB) *djangoProject {
	t.Helper()
	requireDjango(t)
	prepareOnce.Do(func() {
		dir, err := os.MkdirTemp("", "caddy-django-demo-")
		if err != nil {
			prepareError = err
			return
		}
		prepared = dir
		if err := testkit.CopyTree("testdata/demo", dir, isPycache); err != nil {
			prepareError = err
			return
		}
		d := projectAt(dir)
		for _, args := range [][]string{{"migrate", "--noinput"}, {"collectstatic", "--noinput"}} {
			cmd := exec.Command(systemPython, append([]string{"manage.py"}, args...)...)
			cmd.Dir, cmd.Env = dir, d.Env
			if out, err := cmd.CombinedOutput(); err != nil {
				prepareError = fmt.Errorf("manage.py %v: %v\n%s", args, err, out)
				return
			}
		}
	})
	if prepareError != nil {
		t.Fatal(prepareError)
	}
	dir := t.TempDir()
	if err := testkit.CopyTree(prepared, dir, isPycache); err != nil {
		t.Fatal(err)
	}
	return projectAt(dir)
}

func projectAt(dir string) *djangoProject {
	d := &djangoProject{
		Root:        dir,
		StaticRoot:  filepath.Join(dir, "static_root"),
		MediaRoot:   filepath.Join(dir, "media_root"),
		PrivateRoot: filepath.Join(dir, "private_files"),
		DB:          filepath.Join(dir, "db.sqlite3"),
		Heartbeat:   filepath.Join(dir, "worker_heartbeat.txt"),
	}
	d.Env = append(os.Environ(),
		"DJANGO_SETTINGS_MODULE=demo.settings",
		"DJANGO_STATIC_ROOT="+d.StaticRoot,
		"DJANGO_MEDIA_ROOT="+d.MediaRoot,
		"DJANGO_PRIVATE_ROOT="+d.PrivateRoot,
		"DJANGO_DB_PATH="+d.DB,
		"DJANGO_HEARTBEAT_FILE="+d.Heartbeat,
		"PYTHONDONTWRITEBYTECODE=1",
	)
	return d
}

// startGunicorn runs a real Gunicorn (not supervised by Caddy) on a free
// loopback port with extra arguments and returns its address once it
// answers. Its output is logged when the test fails.
func (d *djangoProject) startGunicorn(t testing.TB, workers int, extraArgs ...string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"--bind", addr, "--workers", fmt.Sprint(workers)}, extraArgs...)
	cmd := exec.Command(systemGunicorn, append(args, "demo.wsgi:application")...)
	cmd.Dir, cmd.Env = d.Root, d.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// its own process group, so that the workers go with the master (a
	// killed master leaves its workers running for up to Gunicorn's
	// timeout, holding the output pipe open)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("gunicorn output:\n%s", out.String())
		}
	})
	waitFor(t, 30*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/hello/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}, "gunicorn answering on "+addr)
	return addr
}

// freePort returns a TCP port that was free a moment ago and that no other
// test of this process got (see testkit.FreePort).
func freePort(t testing.TB) int {
	t.Helper()
	p, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpGet returns status and body, or -1 and the error text.
func httpGet(url string) (int, string) {
	// long enough for a request that waits while an app server starts
	// (wait_timeout is 30 s) on a loaded machine
	c := &http.Client{Timeout: 45 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getAfterReload is a GET right after a config reload. Caddy 2.11 swaps its
// listening sockets on a reload, and a new connection can be reset or closed
// unanswered by the old server (README, "Config reloads and Caddy's listener swap"; the
// same happens without the plugin). Such a request, with no HTTP answer at
// all, is sent again, at most twice; any HTTP answer is returned as it is.
func getAfterReload(t *testing.T, url string) *http.Response {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: retryUnanswered{&http.Transport{DisableKeepAlives: true}}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s after the reload: %v", url, err)
	}
	return resp
}

// countEstablishedTo counts established TCP connections (IPv4) to a local
// port, from the client side (Caddy's upstream connections).
func countEstablishedTo(port int) int {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0
	}
	suffix := fmt.Sprintf(":%04X", port)
	n := 0
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		// remote address has the port and the state is ESTABLISHED (01)
		if len(f) > 3 && strings.HasSuffix(f[2], suffix) && f[3] == "01" {
			n++
		}
	}
	return n
}

// countConnectedUnix counts the connected unix sockets named path (the
// connections a listening socket bound at path has accepted).
func countConnectedUnix(path string) int { return len(connectedUnix(path)) }

// connectedUnix returns the inodes of the connected unix sockets that carry
// path (a listening socket's accepted connections carry its bound name).
func connectedUnix(path string) map[string]bool {
	data, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return nil
	}
	inodes := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		// Num RefCount Protocol Flags Type St Inode Path; St 03: connected
		if len(f) == 8 && f[5] == "03" && f[7] == path {
			inodes[f[6]] = true
		}
	}
	return inodes
}

// isPycache leaves Python's bytecode caches out of copied projects.
func isPycache(name string) bool { return name == "__pycache__" }

// multipartWriter writes a multipart form with one file field and returns
// its content type.
func multipartWriter(w io.Writer, filename string, data []byte) string {
	mw := multipart.NewWriter(w)
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(data)
	_ = mw.Close()
	return mw.FormDataContentType()
}

func mustWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSymlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func readGzip(t testing.TB, path string) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, path)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// readAll reads and closes resp's body.
func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
