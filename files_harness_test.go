package caddydjango

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// The harness for end-to-end tests of django_files: a real Caddy
// (caddytest, in this process) in front of the real demo Django project
// under a real Gunicorn. Caddy's ports are picked fresh once per test binary
// (other test runs may use caddytest's defaults at the same time), so these
// tests run one after another, never in parallel.

var (
	filesPortsOnce                  sync.Once
	filesAdmin, filesHTTP, filesTLS int
)

func filesGlobalPorts(t *testing.T) {
	filesPortsOnce.Do(func() {
		filesAdmin, filesHTTP, filesTLS = freePort(t), freePort(t), freePort(t)
	})
}

// filesEnv is a Django project copy with its own Gunicorn (with an access
// log, to tell whether Django saw a request) and the shared test Caddy.
type filesEnv struct {
	t         *testing.T
	tester    *caddytest.Tester
	d         *djangoProject
	upstream  string
	accessLog string
	client    *http.Client
	syncSeq   int
}

func newFilesEnv(t *testing.T, workers int) *filesEnv {
	t.Helper()
	e := &filesEnv{t: t, tester: newFilesTester(t), d: newDjangoProject(t)}
	e.upstream, e.accessLog = startLoggedGunicorn(t, e.d, workers)
	e.client = &http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return e
}

// newFilesTester returns a handle on the test Caddy (caddytest, on this
// binary's ports); the test is skipped with -short.
func newFilesTester(t *testing.T) *caddytest.Tester {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end")
	}
	filesGlobalPorts(t)
	return caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: filesAdmin})
}

// filesSite is a Caddyfile site block on port whose handler is
// django_files with the given option lines.
func filesSite(port int, options ...string) string {
	return fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\t%s\n\t}\n}\n", port, strings.Join(options, "\n\t\t"))
}

// serve makes the test Caddy serve one django_files site with the given
// option lines on a new port, and returns the port.
func (e *filesEnv) serve(options ...string) int {
	e.t.Helper()
	port := freePort(e.t)
	e.load(filesSite(port, options...))
	return port
}

// load makes the test Caddy serve sites (Caddyfile site blocks).
func (e *filesEnv) load(sites string) {
	e.t.Helper()
	loadFilesConfig(e.t, e.tester, sites)
}

// loadFilesConfig loads sites, after the global options block; a leading
// `{ ... }` block in sites is merged into the global options.
func loadFilesConfig(t *testing.T, tester *caddytest.Tester, sites string) {
	t.Helper()
	extra := ""
	if rest, ok := strings.CutPrefix(sites, "{\n"); ok {
		end := strings.Index(rest, "\n}\n")
		extra, sites = rest[:end+1], rest[end+3:]
	}
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	grace_period 1ns
	skip_install_trust
	local_certs
	persist_config off
%s}
%s`, filesAdmin, filesHTTP, filesTLS, extra, sites)
	tester.InitServer(cfg, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
}

// startLoggedGunicorn is startGunicorn with an access log.
func startLoggedGunicorn(t *testing.T, d *djangoProject, workers int) (addr, accessLog string) {
	t.Helper()
	accessLog = filepath.Join(t.TempDir(), "access.log")
	return d.startGunicorn(t, workers, "--access-logfile", accessLog), accessLog
}

// djangoSaw needs a single Gunicorn worker: each worker writes its access
// line after the client has its answer, so with two workers the marker's
// line can come before the line of the request just before it.
//
// djangoSaw counts the requests for path (with query, as sent) in
// Gunicorn's access log, after making sure the log is current: a marker
// request sent through site is waited for first.
func (e *filesEnv) djangoSaw(site, path string) int {
	e.t.Helper()
	e.syncSeq++
	marker := fmt.Sprintf("/status/204/?sync=%d", e.syncSeq)
	if st, _, _ := e.get(site+marker, nil); st != http.StatusNoContent {
		e.t.Fatalf("marker request: status %d", st)
	}
	var log string
	waitFor(e.t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(e.accessLog)
		log = string(b)
		return strings.Contains(log, marker+" ")
	}, "gunicorn's access log to show the marker request")
	return strings.Count(log, " "+path+" HTTP/")
}

func (e *filesEnv) do(req *http.Request) (int, http.Header, string) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func (e *filesEnv) get(url string, hdr map[string]string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return e.do(req)
}

// rawGet sends target verbatim in the request line (Go's client would clean
// or re-encode it) and returns the status and body.
func rawGet(t testing.TB, addr, target string) (int, string) {
	t.Helper()
	st, _, body := rawRequest(t, addr, "GET", target)
	return st, body
}

// rawRequest sends method and target verbatim in the request line and
// returns the status, header and body.
func rawRequest(t testing.TB, addr, method, target string) (int, http.Header, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", method, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %q: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func site(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

func wantHeader(t *testing.T, h http.Header, field, want string) {
	t.Helper()
	if got := h.Get(field); got != want {
		t.Errorf("%s: got %q, want %q", field, got, want)
	}
}

func hashedName(t *testing.T, d *djangoProject, name string) string {
	t.Helper()
	return hashedNameIn(t, d.StaticRoot, name)
}

func hashedNameIn(t *testing.T, staticRoot, name string) string {
	t.Helper()
	var m struct {
		Paths map[string]string `json:"paths"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(staticRoot, "staticfiles.json")), &m); err != nil {
		t.Fatal(err)
	}
	h, ok := m.Paths[name]
	if !ok {
		t.Fatalf("%s not in the manifest", name)
	}
	return h
}
