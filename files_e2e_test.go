package caddydjango

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/klauspost/compress/zstd"
)

// End-to-end tests of django_files: a real Caddy (caddytest, in this
// process) in front of the real demo Django project under a real Gunicorn.
// Caddy's ports are picked fresh once per test binary (other test runs may
// use caddytest's defaults at the same time), so these tests run one after
// another, never in parallel.

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
	if testing.Short() {
		t.Skip("end-to-end")
	}
	filesGlobalPorts(t)
	e := &filesEnv{t: t, d: newDjangoProject(t)}
	e.upstream, e.accessLog = startLoggedGunicorn(t, e.d, workers)
	e.tester = caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: filesAdmin})
	e.client = &http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return e
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
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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

// ---------------------------------------------------------------- static

func TestFilesStaticCaching(t *testing.T) {
	e := newFilesEnv(t, 1)
	port := freePort(t)
	e.load(fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tstatic /static/ %s\n\t\tmedia /media/ %s\n\t\tupstream %s\n\t}\n}\n",
		port, e.d.StaticRoot, e.d.MediaRoot, e.upstream))
	s := site(port)
	hashed := hashedName(t, e.d, "css/app.css")

	st, h, body := e.get(s+"/static/"+hashed, nil)
	if st != 200 || !strings.Contains(body, "font-family:demo") {
		t.Fatalf("hashed file: %d %q", st, body)
	}
	wantHeader(t, h, "Cache-Control", "public, max-age=31536000, immutable")
	wantHeader(t, h, "Access-Control-Allow-Origin", "*")
	wantHeader(t, h, "Content-Type", "text/css; charset=utf-8")

	st, h, _ = e.get(s+"/static/css/app.css", nil)
	if st != 200 {
		t.Fatalf("unhashed file: %d", st)
	}
	wantHeader(t, h, "Cache-Control", "public, max-age=60")
	etag, lastMod := h.Get("Etag"), h.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("no validators: %v", h)
	}
	if st, h, body := e.get(s+"/static/css/app.css", map[string]string{"If-None-Match": etag}); st != 304 || body != "" {
		t.Errorf("revalidation by ETag: %d %q", st, body)
	} else {
		wantHeader(t, h, "Cache-Control", "public, max-age=60")
	}
	if st, _, _ := e.get(s+"/static/css/app.css", map[string]string{"If-Modified-Since": lastMod}); st != 304 {
		t.Errorf("revalidation by Last-Modified: %d", st)
	}

	// the hashed font is immutable too; a name that only looks hashed is
	// not, when the manifest exists
	if _, h, _ := e.get(s+"/static/"+hashedName(t, e.d, "fonts/demo.woff2"), nil); h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("hashed font: %q", h.Get("Cache-Control"))
	}
	mustWrite(t, filepath.Join(e.d.StaticRoot, "css", "extra.0123456789ab.css"), "b{}")
	if _, h, _ := e.get(s+"/static/css/extra.0123456789ab.css", nil); h.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("hash-like name outside the manifest: %q", h.Get("Cache-Control"))
	}

	// HEAD works, other methods are 405 with Allow
	req, _ := http.NewRequest(http.MethodHead, s+"/static/"+hashed, nil)
	if st, _, _ := e.do(req); st != 200 {
		t.Errorf("HEAD: %d", st)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		req, _ := http.NewRequest(m, s+"/static/"+hashed, strings.NewReader("x"))
		st, h, _ := e.do(req)
		if st != 405 || h.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d Allow=%q", m, st, h.Get("Allow"))
		}
	}

	// missing files and directories are 404 from Caddy; Django never sees them
	for _, p := range []string{"/static/css/missing.css", "/static/css/", "/static/css", "/static/", "/static/staticfiles.json/x", "/static/.hidden"} {
		if st, h, _ := e.get(s+p, nil); st != 404 {
			t.Errorf("GET %s: %d", p, st)
		} else if h.Get("Cache-Control") != "" {
			t.Errorf("GET %s: a 404 carries Cache-Control %q", p, h.Get("Cache-Control"))
		}
	}
	for _, p := range []string{"/static/css/missing.css", "/static/css/", "/static/" + hashed} {
		if n := e.djangoSaw(s, p); n != 0 {
			t.Errorf("Django saw %s %d times", p, n)
		}
	}
	// ...but it does see what is not static (the check can fail)
	e.get(s+"/staticx/app.css", nil)
	if n := e.djangoSaw(s, "/staticx/app.css"); n != 1 {
		t.Errorf("Django saw /staticx/app.css %d times, want 1", n)
	}
}

func TestFilesPrecompressedSelection(t *testing.T) {
	e := newFilesEnv(t, 1)
	port := freePort(t)
	e.load(fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tstatic /static/ %s\n\t\tupstream %s\n\t}\n}\n", port, e.d.StaticRoot, e.upstream))
	s := site(port)
	hashed := hashedName(t, e.d, "js/app.js")
	base := filepath.Join(e.d.StaticRoot, filepath.FromSlash(hashed))
	original := string(mustRead(t, base))
	for suffix, marker := range map[string]string{".br": "BROTLI", ".zst": "ZSTD", ".gz": "GZIP"} {
		mustWrite(t, base+suffix, marker)
	}
	for _, tc := range []struct{ accept, encoding, body string }{
		{"", "", original},
		{"identity", "", original},
		{"gzip", "gzip", "GZIP"},
		{"zstd", "zstd", "ZSTD"},
		{"br", "br", "BROTLI"},
		{"gzip, deflate, br, zstd", "br", "BROTLI"},
		{"gzip, zstd", "zstd", "ZSTD"},
		{"br;q=0.5, gzip;q=1.0", "gzip", "GZIP"},
		{"deflate", "", original},
	} {
		hdr := map[string]string{}
		if tc.accept != "" {
			hdr["Accept-Encoding"] = tc.accept
		}
		st, h, body := e.get(s+"/static/"+hashed, hdr)
		if st != 200 || h.Get("Content-Encoding") != tc.encoding || body != tc.body {
			t.Errorf("Accept-Encoding %q: %d, Content-Encoding %q, body %.20q", tc.accept, st, h.Get("Content-Encoding"), body)
		}
		if !strings.Contains(h.Get("Vary"), "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, h.Get("Vary"))
		}
		if h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("Accept-Encoding %q: Cache-Control %q", tc.accept, h.Get("Cache-Control"))
		}
		if h.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("Accept-Encoding %q: Content-Type %q", tc.accept, h.Get("Content-Type"))
		}
	}
}

// TestFilesCollectstaticRereadsManifestAndCompresses: with `compress`,
// sidecars appear after Caddy starts; a new collectstatic is picked up
// without a restart: the new hashed file is immutable, the old one (still on
// disk, asked for by pages cached before the deploy) stays immutable, and
// the new file gets its sidecars.
func TestFilesCollectstaticRereadsManifestAndCompresses(t *testing.T) {
	e := newFilesEnv(t, 1)
	port := freePort(t)
	e.load(fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tstatic /static/ %s {\n\t\t\tcompress\n\t\t}\n\t\tupstream %s\n\t}\n}\n", port, e.d.StaticRoot, e.upstream))
	s := site(port)
	oldJS := hashedName(t, e.d, "js/app.js")
	oldCSS := hashedName(t, e.d, "css/app.css")

	sidecar := func(name, suffix string) string {
		return filepath.Join(e.d.StaticRoot, filepath.FromSlash(name)) + suffix
	}
	waitFor(t, 20*time.Second, func() bool {
		_, err1 := os.Stat(sidecar(oldJS, ".gz"))
		_, err2 := os.Stat(sidecar(oldJS, ".zst"))
		return err1 == nil && err2 == nil
	}, "gzip and zstd sidecars of "+oldJS)
	for _, name := range []string{hashedName(t, e.d, "fonts/demo.woff2")} {
		if _, err := os.Stat(sidecar(name, ".gz")); err == nil {
			t.Errorf("%s (a font) was compressed", name)
		}
	}
	st, h, body := e.get(s+"/static/"+oldJS, map[string]string{"Accept-Encoding": "zstd"})
	if st != 200 || h.Get("Content-Encoding") != "zstd" {
		t.Fatalf("zstd: %d %q", st, h.Get("Content-Encoding"))
	}
	zr, err := zstd.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	zr.Close()
	if err != nil || string(plain) != string(mustRead(t, sidecar(oldJS, ""))) {
		t.Fatalf("zstd sidecar does not decode to the file (%v)", err)
	}

	// a deploy: changed sources, collectstatic again
	mustWrite(t, filepath.Join(e.d.Root, "assets", "css", "app.css"), "body{color:red}\n")
	mustWrite(t, filepath.Join(e.d.Root, "assets", "js", "app.js"), strings.Repeat("console.log('v2');\n", 2000))
	cmd := exec.Command(systemPython, "manage.py", "collectstatic", "--noinput")
	cmd.Dir, cmd.Env = e.d.Root, e.d.Env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("collectstatic: %v\n%s", err, out)
	}
	newCSS, newJS := hashedName(t, e.d, "css/app.css"), hashedName(t, e.d, "js/app.js")
	if newCSS == oldCSS || newJS == oldJS {
		t.Fatal("collectstatic did not produce new hashed names")
	}
	waitFor(t, 10*time.Second, func() bool {
		_, h, _ := e.get(s+"/static/"+newCSS, nil)
		return h.Get("Cache-Control") == "public, max-age=31536000, immutable"
	}, "the new manifest to make "+newCSS+" immutable")
	if st, h, body := e.get(s+"/static/"+oldCSS, nil); st != 200 || strings.Contains(body, "color:red") ||
		h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("old hashed file %s after the deploy: %d %q %q", oldCSS, st, h.Get("Cache-Control"), body)
	}
	if _, h, _ := e.get(s+"/static/css/app.css", nil); h.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("the unhashed name after the deploy: %q", h.Get("Cache-Control"))
	}
	// the manifest is re-read (and compression started) by the static
	// requests that follow the deploy
	waitFor(t, 20*time.Second, func() bool {
		_, h, _ := e.get(s+"/static/"+newJS, map[string]string{"Accept-Encoding": "gzip"})
		_, err := os.Stat(sidecar(newJS, ".gz"))
		return err == nil && h.Get("Content-Encoding") == "gzip"
	}, "the newly collected "+newJS+" served from its gzip sidecar")
}

// ---------------------------------------------------------------- media

func uploadFile(t *testing.T, e *filesEnv, s, name string, content []byte) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s+"/upload/", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	st, _, body := e.do(req)
	if st != 200 {
		t.Fatalf("upload %s: %d %s", name, st, body)
	}
	var res struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || !strings.HasPrefix(res.URL, "/media/") {
		t.Fatalf("upload %s: %s (%v)", name, body, err)
	}
	return res.URL
}

func TestFilesMediaHostileUploads(t *testing.T) {
	e := newFilesEnv(t, 1)
	port := freePort(t)
	e.load(fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tstatic /static/ %s\n\t\tmedia /media/ %s\n\t\tupstream %s\n\t}\n}\n",
		port, e.d.StaticRoot, e.d.MediaRoot, e.upstream))
	s := site(port)

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 1000)...)
	for _, tc := range []struct {
		name       string
		content    []byte
		attachment bool
	}{
		{"evil.html", mustRead(t, "testdata/files/evil.html"), true},
		{"evil.svg", mustRead(t, "testdata/files/evil.svg"), true},
		{"evil.xhtml", mustRead(t, "testdata/files/evil.html"), true},
		{"evil.xml", []byte(`<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>`), true},
		{"evil.HTM", mustRead(t, "testdata/files/evil.html"), true},
		{"noext", mustRead(t, "testdata/files/evil.html"), true},
		{"photo.png", png, false},
		{"notes.txt", []byte("<script>alert(1)</script>"), false},
	} {
		url := uploadFile(t, e, s, tc.name, tc.content)
		st, h, body := e.get(s+url, nil)
		if st != 200 || body != string(tc.content) {
			t.Errorf("%s: %d, %d bytes", url, st, len(body))
			continue
		}
		wantHeader(t, h, "X-Content-Type-Options", "nosniff")
		wantHeader(t, h, "Content-Security-Policy", "sandbox")
		wantHeader(t, h, "Cache-Control", "public, max-age=86400")
		if got := h.Get("Content-Disposition"); (got == "attachment") != tc.attachment {
			t.Errorf("%s: Content-Disposition %q, want attachment=%v", url, got, tc.attachment)
		}
	}

	// ranges
	url := uploadFile(t, e, s, "range.txt", []byte("0123456789abcdef"))
	st, h, body := e.get(s+url, map[string]string{"Range": "bytes=4-9"})
	if st != 206 || body != "456789" || h.Get("Content-Range") != "bytes 4-9/16" {
		t.Errorf("range: %d %q %q", st, body, h.Get("Content-Range"))
	}

	// dotfiles, directories, escaping symlinks (file and directory)
	outside := t.TempDir()
	mustWrite(t, filepath.Join(outside, "secret.txt"), "TOP-SECRET")
	mustWrite(t, filepath.Join(e.d.MediaRoot, ".env"), "TOP-SECRET")
	mustWrite(t, filepath.Join(e.d.MediaRoot, ".git", "config"), "TOP-SECRET")
	mustSymlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(e.d.MediaRoot, "uploads", "link.txt"))
	mustSymlink(t, outside, filepath.Join(e.d.MediaRoot, "uploads", "linkdir"))
	mustSymlink(t, filepath.Join(e.d.Root, "demo"), filepath.Join(e.d.MediaRoot, "code"))
	mustSymlink(t, "range.txt", filepath.Join(e.d.MediaRoot, "uploads", "inner.txt"))
	for _, p := range []string{"/media/.env", "/media/.git/config", "/media/uploads/link.txt", "/media/uploads/linkdir/secret.txt",
		"/media/code/settings.py", "/media/uploads/", "/media/uploads", "/media/", "/media/missing.png"} {
		st, h, body := e.get(s+p, nil)
		if st != 404 || strings.Contains(body, "TOP-SECRET") || strings.Contains(body, "SECRET_KEY") {
			t.Errorf("GET %s: %d %.40q", p, st, body)
		}
		wantHeader(t, h, "X-Content-Type-Options", "nosniff")
	}
	if st, _, body := e.get(s+"/media/uploads/inner.txt", nil); st != 200 || body != "0123456789abcdef" {
		t.Errorf("a symlink inside the media root: %d %q", st, body)
	}
	req, _ := http.NewRequest(http.MethodPost, s+url, strings.NewReader("x"))
	if st, h, _ := e.do(req); st != 405 || h.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST to media: %d", st)
	}
	if n := e.djangoSaw(s, "/media/.env"); n != 0 {
		t.Errorf("Django saw /media/.env")
	}
}

// TestFilesEncodedTraversal sends hostile request lines verbatim.
func TestFilesEncodedTraversal(t *testing.T) {
	e := newFilesEnv(t, 2)
	port := freePort(t)
	e.load(fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tstatic /static/ %s\n\t\tmedia /media/ %s\n\t\tprotected %s\n\t\tupstream %s\n\t}\n}\n",
		port, e.d.StaticRoot, e.d.MediaRoot, e.d.PrivateRoot, e.upstream))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	mustWrite(t, filepath.Join(e.d.Root, "secret.txt"), "TOP-SECRET")
	mustWrite(t, filepath.Join(e.d.MediaRoot, "uploads", "ok.txt"), "ok")
	if st, body := rawGet(t, addr, "/media/uploads/ok.txt"); st != 200 || body != "ok" {
		t.Fatalf("control request: %d %q", st, body)
	}
	for _, prefix := range []string{"/media/", "/media/uploads/", "/static/", "/static/css/"} {
		for _, attack := range []string{
			"../secret.txt", "../../secret.txt", "%2e%2e/secret.txt", "%2E%2E/%2e%2e/secret.txt",
			"..%2fsecret.txt", "..%2F..%2Fsecret.txt", "%2e%2e%2f%2e%2e%2fsecret.txt", "..%5csecret.txt",
			"..\\secret.txt", "..\\..\\secret.txt", "/../secret.txt", "//..//secret.txt", ".%2e/secret.txt",
			"%2e./%2e./secret.txt", "ok.txt%00/../../secret.txt", "%00../secret.txt", "..;/secret.txt",
			"%252e%252e/secret.txt", "..%c0%af../secret.txt", "./../secret.txt",
		} {
			st, body := rawGet(t, addr, prefix+attack)
			if st == 200 || strings.Contains(body, "TOP-SECRET") {
				t.Errorf("GET %s%s: %d %.40q", prefix, attack, st, body)
			}
		}
	}
	// X-Accel-Redirect and X-Sendfile to targets outside the protected root
	// (?raw=1 makes the demo view pass the name unvalidated)
	for _, view := range []string{"download", "sendfile"} {
		for _, name := range []string{"../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "../demo/settings.py", "../../../../etc/passwd"} {
			st, body := rawGet(t, addr, "/"+view+"/"+name+"?token=letmein&raw=1")
			if st != 404 || strings.Contains(body, "TOP-SECRET") || strings.Contains(body, "root:") || strings.Contains(body, "SECRET_KEY") {
				t.Errorf("%s %s: %d %.40q", view, name, st, body)
			}
		}
	}
}

// ---------------------------------------------------------------- protected

func TestFilesProtectedDownloads(t *testing.T) {
	e := newFilesEnv(t, 2)
	port, bare := freePort(t), freePort(t)
	e.load(fmt.Sprintf(`http://:%d {
	django_files {
		static /static/ %s
		media /media/ %s
		protected %s
		upstream %s
	}
}
http://:%d {
	django_files {
		static /static/ %s
		media /media/ %s
		upstream %s
	}
}
`, port, e.d.StaticRoot, e.d.MediaRoot, e.d.PrivateRoot, e.upstream, bare, e.d.StaticRoot, e.d.MediaRoot, e.upstream))
	s := site(port)
	pdf := string(mustRead(t, filepath.Join(e.d.PrivateRoot, "report.pdf")))
	notes := string(mustRead(t, filepath.Join(e.d.PrivateRoot, "notes.txt")))

	for _, view := range []string{"download", "sendfile"} {
		st, h, body := e.get(s+"/"+view+"/report.pdf?token=letmein", nil)
		if st != 200 || body != pdf {
			t.Errorf("%s: %d %.30q", view, st, body)
		}
		wantHeader(t, h, "Content-Type", "application/pdf")
		wantHeader(t, h, "Content-Disposition", `attachment; filename="report.pdf"`)
		// a private upload can never run script on the site's origin either
		wantHeader(t, h, "X-Content-Type-Options", "nosniff")
		wantHeader(t, h, "Content-Security-Policy", "sandbox")
		wantHeader(t, h, "Cache-Control", "private, max-age=0")
		wantHeader(t, h, "X-Content-Type-Options", "nosniff") // Django's SecurityMiddleware header is kept
		for _, f := range []string{"X-Accel-Redirect", "X-Sendfile"} {
			if v, ok := h[f]; ok {
				t.Errorf("%s: %s reached the client: %q", view, f, v)
			}
		}
		if h.Get("Etag") == "" || h.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s: served without file validators: %v", view, h)
		}

		// ranges and HEAD
		st, h, body = e.get(s+"/"+view+"/notes.txt?token=letmein", map[string]string{"Range": "bytes=0-6"})
		if st != 206 || body != notes[:7] || h.Get("Content-Range") != fmt.Sprintf("bytes 0-6/%d", len(notes)) {
			t.Errorf("%s range: %d %q %q", view, st, body, h.Get("Content-Range"))
		}
		req, _ := http.NewRequest(http.MethodHead, s+"/"+view+"/notes.txt?token=letmein", nil)
		if st, h, body := e.do(req); st != 200 || body != "" || h.Get("Content-Length") != fmt.Sprint(len(notes)) {
			t.Errorf("%s HEAD: %d %q len=%q", view, st, body, h.Get("Content-Length"))
		}

		// Django's refusal passes through
		st, _, body = e.get(s+"/"+view+"/report.pdf?token=wrong", nil)
		if st != 403 || body != "forbidden" {
			t.Errorf("%s denied: %d %q", view, st, body)
		}
		// Django's own 404 (validated name) passes through
		if st, _, _ := e.get(s+"/"+view+"/nope.pdf?token=letmein", nil); st != 404 {
			t.Errorf("%s missing: %d", view, st)
		}
	}

	// dotfiles and symlinks leaving the protected root
	outside := t.TempDir()
	mustWrite(t, filepath.Join(outside, "secret.txt"), "TOP-SECRET")
	mustWrite(t, filepath.Join(e.d.PrivateRoot, ".secret"), "TOP-SECRET")
	mustSymlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(e.d.PrivateRoot, "link.txt"))
	mustSymlink(t, outside, filepath.Join(e.d.PrivateRoot, "linkdir"))
	for _, view := range []string{"download", "sendfile"} {
		for _, name := range []string{".secret", "link.txt", "linkdir/secret.txt", "linkdir"} {
			st, h, body := e.get(s+"/"+view+"/"+name+"?token=letmein&raw=1", nil)
			if st != 404 || strings.Contains(body, "TOP-SECRET") || h.Get("Content-Disposition") != "" {
				t.Errorf("%s %s: %d %q %v", view, name, st, body, h)
			}
			if h.Get("X-Accel-Redirect") != "" || h.Get("X-Sendfile") != "" {
				t.Errorf("%s %s: header leaked", view, name)
			}
		}
	}

	// the protected root has no public URL
	for _, p := range []string{"/protected/report.pdf", "/private_files/report.pdf", "/media/../private_files/report.pdf"} {
		if st, _, body := e.get(s+p, nil); st == 200 || body == pdf {
			t.Errorf("GET %s: %d", p, st)
		}
	}

	// without a protected root: 404, and the header never reaches the client
	for _, view := range []string{"download", "sendfile"} {
		st, h, body := e.get(site(bare)+"/"+view+"/report.pdf?token=letmein", nil)
		if st != 404 || body == pdf || h.Get("X-Accel-Redirect") != "" || h.Get("X-Sendfile") != "" {
			t.Errorf("no protected root, %s: %d %v", view, st, h)
		}
	}
}

// ---------------------------------------------------------------- proxy

func TestFilesForwardedHeaders(t *testing.T) {
	e := newFilesEnv(t, 2)
	untrusted, trusted, serverTrusted := freePort(t), freePort(t), freePort(t)
	e.load(fmt.Sprintf("{\n\tservers :%d {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}\n}\n"+
		"http://:%d {\n\tdjango_files {\n\t\tupstream %s\n\t}\n}\nhttp://:%d {\n\tdjango_files {\n\t\tupstream %s\n\t\ttrusted_proxies 127.0.0.1/32 ::1\n\t}\n}\n"+
		"http://:%d {\n\tdjango_files {\n\t\tupstream %s\n\t}\n}\n",
		serverTrusted, untrusted, e.upstream, trusted, e.upstream, serverTrusted, e.upstream))
	spoof := map[string]string{
		"Host":              "shop.example.com",
		"X-Forwarded-For":   "203.0.113.9",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Host":  "evil.example",
		"X-Real-IP":         "203.0.113.9",
	}
	type seen struct {
		Host    string  `json:"host"`
		Scheme  string  `json:"scheme"`
		Secure  bool    `json:"is_secure"`
		Remote  string  `json:"remote_addr"`
		XFF     *string `json:"x_forwarded_for"`
		XFP     *string `json:"x_forwarded_proto"`
		XFH     *string `json:"x_forwarded_host"`
		XRealIP *string `json:"x_real_ip"`
	}
	str := func(p *string) string {
		if p == nil {
			return "<none>"
		}
		return *p
	}
	fetch := func(port int, hdr map[string]string) seen {
		t.Helper()
		st, _, body := e.get(site(port)+"/headers/", hdr)
		if st != 200 {
			t.Fatalf("/headers/: %d %s", st, body)
		}
		var v seen
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	plain := fetch(untrusted, map[string]string{"Host": "shop.example.com"})
	if plain.Host != "shop.example.com" || plain.Scheme != "http" || str(plain.XFF) != "127.0.0.1" || str(plain.XFH) != "shop.example.com" {
		t.Errorf("plain request: %+v xff=%s xfh=%s", plain, str(plain.XFF), str(plain.XFH))
	}

	v := fetch(untrusted, spoof)
	if v.Host != "shop.example.com" {
		t.Errorf("untrusted client: Host %q (spoofed X-Forwarded-Host won)", v.Host)
	}
	if str(v.XFF) != "127.0.0.1" || str(v.XFP) != "http" || v.Scheme != "http" || v.Secure {
		t.Errorf("untrusted client: spoofed values kept: xff=%s xfp=%s scheme=%s secure=%v", str(v.XFF), str(v.XFP), v.Scheme, v.Secure)
	}
	if str(v.XRealIP) != "127.0.0.1" {
		t.Errorf("untrusted client: X-Real-IP %s", str(v.XRealIP))
	}

	v = fetch(trusted, spoof)
	if str(v.XFF) != "203.0.113.9, 127.0.0.1" || v.Scheme != "https" || !v.Secure || str(v.XRealIP) != "203.0.113.9" {
		t.Errorf("trusted proxy: xff=%s scheme=%s secure=%v x-real-ip=%s", str(v.XFF), v.Scheme, v.Secure, str(v.XRealIP))
	}
	if v.Host != "evil.example" {
		t.Errorf("trusted proxy: X-Forwarded-Host not used: %q", v.Host)
	}

	// a trusted proxy that sends no X-Real-IP (a load balancer, a CDN): the
	// client is the right-most X-Forwarded-For address that is no trusted
	// proxy, not the proxy itself
	for xff, want := range map[string]string{
		"198.51.100.7":                         "198.51.100.7",
		"198.51.100.7, 203.0.113.9":            "203.0.113.9",
		"198.51.100.7, 203.0.113.9, 127.0.0.1": "203.0.113.9",
		"not-an-ip, 127.0.0.1":                 "127.0.0.1",
	} {
		v = fetch(trusted, map[string]string{"X-Forwarded-For": xff})
		if str(v.XRealIP) != want {
			t.Errorf("trusted proxy without X-Real-IP, X-Forwarded-For %q: X-Real-IP %s, want %s", xff, str(v.XRealIP), want)
		}
	}
	// trusted by the server's own trusted_proxies: Caddy's client_ip
	v = fetch(serverTrusted, map[string]string{"X-Forwarded-For": "198.51.100.7"})
	if str(v.XRealIP) != "198.51.100.7" || v.Scheme != "http" {
		t.Errorf("server-level trusted proxy without X-Real-IP: X-Real-IP %s scheme %s", str(v.XRealIP), v.Scheme)
	}
}

func TestFilesMaxBody413(t *testing.T) {
	e := newFilesEnv(t, 1)
	port := freePort(t)
	e.load(fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream %s\n\t\tmax_body 1MiB\n\t\trequest_buffer 64KiB\n\t}\n}\n", port, e.upstream))
	s := site(port)
	post := func(body []byte, chunked bool) (int, string) {
		t.Helper()
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // unknown length: Go sends chunked
		}
		req, _ := http.NewRequest(http.MethodPost, s+"/echo-size/", r)
		st, _, out := e.do(req)
		return st, out
	}
	type echo struct {
		Size   int    `json:"size"`
		SHA256 string `json:"sha256"`
	}
	ok := 0
	for _, tc := range []struct {
		n       int
		chunked bool
	}{{1 << 20, false}, {1 << 20, true}, {200 << 10, true}, {10, false}} {
		body := bytes.Repeat([]byte("ab"), tc.n/2)
		st, out := post(body, tc.chunked)
		var got echo
		json.Unmarshal([]byte(out), &got)
		sum := sha256.Sum256(body)
		if st != 200 || got.Size != len(body) || got.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%d bytes (chunked=%v): %d %s", len(body), tc.chunked, st, out)
		}
		ok++
	}
	for _, tc := range []struct {
		n       int
		chunked bool
	}{{1<<20 + 1, false}, {1<<20 + 1, true}, {5 << 20, false}, {5 << 20, true}} {
		st, out := postRaw(t, fmt.Sprintf("127.0.0.1:%d", port), "/echo-size/", bytes.Repeat([]byte("x"), tc.n), tc.chunked)
		if st != 413 || !strings.Contains(out, "1 MiB") || !strings.Contains(out, "max_body") {
			t.Errorf("%d bytes (chunked=%v): %d %q", tc.n, tc.chunked, st, out)
		}
	}
	if n := e.djangoSaw(s, "/echo-size/"); n != ok {
		t.Errorf("Django saw %d POSTs to /echo-size/, want %d (the refused ones must never reach it)", n, ok)
	}
}

// postRaw POSTs body while reading the response concurrently: a server that
// refuses a body answers before reading it, and a client that only reads
// after writing everything would see "connection reset" instead of the
// answer.
func postRaw(t *testing.T, addr, path string, body []byte, chunked bool) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		w := bufio.NewWriter(conn)
		if chunked {
			fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n", path)
			for b := body; len(b) > 0; {
				n := min(len(b), 32<<10)
				fmt.Fprintf(w, "%x\r\n%s\r\n", n, b[:n])
				b = b[n:]
			}
			w.WriteString("0\r\n\r\n")
		} else {
			fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", path, len(body))
			w.Write(body)
		}
		w.Flush() // errors are expected once the server has answered
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s (%d bytes): %v", path, len(body), err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// upstreamRequests reads the in-flight count Caddy's admin API reports for
// an upstream.
func upstreamRequests(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/reverse_proxy/upstreams", filesAdmin))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ups []struct {
		Address     string `json:"address"`
		NumRequests int    `json:"num_requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ups); err != nil {
		t.Fatal(err)
	}
	for _, u := range ups {
		if u.Address == addr {
			return u.NumRequests
		}
	}
	return 0
}

// TestFilesSlowUploadDoesNotBlock: with one sync Gunicorn worker, a client
// uploading slowly must not keep other requests waiting. The same upload
// through a plain reverse_proxy does block them (the control: it shows
// this test can fail).
func TestFilesSlowUploadDoesNotBlock(t *testing.T) {
	e := newFilesEnv(t, 1)
	port, plain := freePort(t), freePort(t)
	e.load(fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream %s\n\t\trequest_buffer 16KiB\n\t}\n}\nhttp://:%d {\n\treverse_proxy %s\n}\n",
		port, e.upstream, plain, e.upstream))
	const size = 256 << 10
	body := bytes.Repeat([]byte("z"), size)

	startUpload := func(p int) (net.Conn, *bufio.Reader) {
		t.Helper()
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(60 * time.Second))
		fmt.Fprintf(conn, "POST /echo-size/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", size)
		if _, err := conn.Write(body[:size/2]); err != nil {
			t.Fatal(err)
		}
		return conn, bufio.NewReader(conn)
	}
	finishUpload := func(conn net.Conn, br *bufio.Reader) {
		t.Helper()
		defer conn.Close()
		if _, err := conn.Write(body[size/2:]); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(out), fmt.Sprintf(`"size": %d`, size)) {
			t.Errorf("upload: %d %s", resp.StatusCode, out)
		}
	}
	quickHello := func(p int, timeout time.Duration) error {
		c := &http.Client{Timeout: timeout}
		resp, err := c.Get(site(p) + "/hello/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}

	// through django_files: the half-sent upload waits in Caddy
	conn, br := startUpload(port)
	for i := range 3 {
		if err := quickHello(port, 5*time.Second); err != nil {
			t.Fatalf("request %d during a slow upload: %v", i, err)
		}
	}
	if n := upstreamRequests(t, e.upstream); n != 0 {
		t.Errorf("the unfinished upload was sent to Gunicorn (%d in flight)", n)
	}
	finishUpload(conn, br)

	// control: plain reverse_proxy streams the upload to the only worker
	conn, br = startUpload(plain)
	waitFor(t, 10*time.Second, func() bool { return upstreamRequests(t, e.upstream) == 1 }, "the plain proxy to forward the upload")
	if err := quickHello(plain, 1500*time.Millisecond); err == nil {
		t.Error("control: a request got through a plain reverse_proxy while the only worker was reading a slow upload; the test cannot tell buffering from not")
	}
	finishUpload(conn, br)
}

// TestFilesNoIdleUpstreamConnections: django_files keeps no idle
// connection to Gunicorn by default (one a sync worker has accepted blocks
// that worker; a request the client cancelled while Caddy was dialing
// leaves exactly such a connection in a keep-alive pool), and keeps them
// with upstream_keepalive. Gunicorn runs gthread workers with a long
// keep-alive here, so only Caddy can close the connection.
func TestFilesNoIdleUpstreamConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	filesGlobalPorts(t)
	d := newDjangoProject(t)
	upstream := d.startGunicorn(t, 1, "--threads", "2", "--keep-alive", "30")
	_, gp, _ := net.SplitHostPort(upstream)
	gport, _ := strconv.Atoi(gp)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: filesAdmin})
	plain, pooled := freePort(t), freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream %s\n\t}\n}\n"+
		"http://:%d {\n\tdjango_files {\n\t\tupstream %s\n\t\tupstream_keepalive 20s\n\t}\n}\n",
		plain, upstream, pooled, upstream))
	waitFor(t, 35*time.Second, func() bool { return countEstablishedTo(gport) == 0 }, "no connection to gunicorn before the test")

	hello := func(port int) {
		t.Helper()
		resp, err := http.Get(site(port) + "/hello/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("/hello/: %d", resp.StatusCode)
		}
	}
	for range 3 {
		hello(plain)
	}
	waitFor(t, 5*time.Second, func() bool { return countEstablishedTo(gport) == 0 },
		"Caddy to close its connections to gunicorn after the responses (default: no upstream keep-alive)")

	for range 3 {
		hello(pooled)
	}
	// Gunicorn keeps them 30 s; Caddy, with upstream_keepalive, reuses one
	if n := countEstablishedTo(gport); n != 1 {
		t.Errorf("with upstream_keepalive: %d connections to gunicorn after 3 sequential requests, want 1 reused", n)
	}
}

// TestFilesLargeFilesWhole: files larger than Caddy's 64 KiB write chunk
// arrive whole and byte-exact (sendfile path), in ranges and over a reused
// connection (the Content-Length was exact), for media and static.
func TestFilesLargeFilesWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	filesGlobalPorts(t)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: filesAdmin})
	media, static := t.TempDir(), t.TempDir()
	content := randomBytes(t, 3<<20+123)
	mustWrite(t, filepath.Join(media, "video.bin"), string(content))
	mustWrite(t, filepath.Join(static, "big.js"), string(content))
	port := freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tstatic /static/ %s\n\t\tmedia /media/ %s\n\t}\n}\n",
		port, static, media))

	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxConnsPerHost: 1}}
	var conns atomic.Int32
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			conns.Add(1)
		}
	}}
	get := func(path, rng string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, site(port)+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp.StatusCode, body
	}
	for _, path := range []string{"/media/video.bin", "/static/big.js"} {
		for i := range 2 {
			if code, body := get(path, ""); code != 200 || !bytes.Equal(body, content) {
				t.Errorf("%s #%d: %d, %d bytes, equal %v", path, i, code, len(body), bytes.Equal(body, content))
			}
		}
		if code, body := get(path, "bytes=100000-2200000"); code != 206 || !bytes.Equal(body, content[100000:2200001]) {
			t.Errorf("%s range: %d, %d bytes", path, code, len(body))
		}
		if code, body := get(path, "bytes=-5000"); code != 206 || !bytes.Equal(body, content[len(content)-5000:]) {
			t.Errorf("%s suffix range: %d, %d bytes", path, code, len(body))
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 8 sequential requests; want 1 kept alive (a wrong Content-Length closes it)", n)
	}
}

// TestFilesStaticSymlinks: by default a static path may not leave the
// static root through a symlink; `collectstatic --link` trees (every
// unhashed file a symlink into the app's sources) need follow_symlinks.
func TestFilesStaticSymlinks(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	filesGlobalPorts(t)
	d := newDjangoProject(t)
	linked := filepath.Join(t.TempDir(), "static_root")
	cmd := exec.Command("/usr/bin/python3", "manage.py", "collectstatic", "--noinput", "--link")
	cmd.Dir, cmd.Env = d.Root, append(slices.Clone(d.Env), "DJANGO_STATIC_ROOT="+linked)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("collectstatic --link: %v\n%s", err, out)
	}
	if fi, err := os.Lstat(filepath.Join(linked, "css", "app.css")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("collectstatic --link made no symlink: %v %v", fi, err)
	}
	hashed := filepath.Base(hashedNameIn(t, linked, "css/app.css"))
	mustSymlink(t, hashed, filepath.Join(linked, "css", "inner.css")) // stays inside
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: filesAdmin})
	confined, following := freePort(t), freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tstatic /static/ %s\n\t}\n}\n"+
		"http://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:1\n\t\tstatic /static/ %s {\n\t\t\tfollow_symlinks\n\t\t}\n\t}\n}\n",
		confined, linked, following, linked))
	get := func(port int, path string) int {
		t.Helper()
		resp, err := http.Get(site(port) + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for path, want := range map[string][2]int{
		"/static/css/app.css":   {404, 200}, // a symlink out of the root
		"/static/css/inner.css": {200, 200}, // to the hashed copy, a real file inside
		"/static/css/" + hashed: {200, 200},
		"/static/js/app.js":     {404, 200},
	} {
		if got := [2]int{get(confined, path), get(following, path)}; got != want {
			t.Errorf("%s: default %d, follow_symlinks %d; want %d, %d", path, got[0], got[1], want[0], want[1])
		}
	}
}

func TestFilesUpstreamDown503(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	filesGlobalPorts(t)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: filesAdmin})
	port, nobody := freePort(t), freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\tdjango_files {\n\t\tupstream 127.0.0.1:%d\n\t\twait_timeout 1s\n\t\tstatic /static/ %s\n\t}\n}\n",
		port, nobody, t.TempDir()))
	want503AfterWaitTimeout(t, "upstream down", site(port)+"/hello/")
}

// want503AfterWaitTimeout requests url from a django_files whose
// wait_timeout is 1s and whose Gunicorn never answers: 503 with
// Retry-After, after about that second (retried, then gave up).
func want503AfterWaitTimeout(t *testing.T, what, url string) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s: %d Retry-After=%q, want 503 with Retry-After", what, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Errorf("%s: answered after %s; want about wait_timeout (1s)", what, took)
	}
}

// TestFilesWithDjangoApp: with the django app, bare django_files takes its
// root and Gunicorn from the app, and requests sent while Gunicorn starts
// wait for it instead of failing; a Gunicorn that never serves gives 503
// with Retry-After after wait_timeout.
func TestFilesWithDjangoApp(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	filesGlobalPorts(t)
	d := newDjangoProject(t)
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: filesAdmin})
	t.Cleanup(func() {
		// stop the app's processes
		loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\trespond 204\n}\n", freePort(t)))
	})
	port, gport := freePort(t), freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf(`{
	django {
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			workers 1
		}
	}
}
http://:%d {
	django_files
}
`, d.Root, systemGunicorn, gport, port))
	// the first request goes out at once, while Gunicorn boots: it waits
	start := time.Now()
	code, body := httpGet(site(port) + "/hello/")
	if code != 200 || !strings.HasPrefix(body, "hello from django") {
		t.Fatalf("first request while Gunicorn starts: %d %q (after %s)", code, body, time.Since(start))
	}
	t.Logf("first request answered after %s", time.Since(start))
	var m struct {
		Paths map[string]string `json:"paths"`
	}
	json.Unmarshal(mustRead(t, filepath.Join(d.StaticRoot, "staticfiles.json")), &m)
	if code, _ := httpGet(site(port) + "/static/" + m.Paths["css/app.css"]); code != 200 {
		t.Errorf("static from the app's root: %d", code)
	}

	// a Gunicorn that never serves (the socket is held by Caddy; nobody accepts)
	loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\trespond 204\n}\n", freePort(t)))
	port2, gport2 := freePort(t), freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf(`{
	django {
		root %s
		gunicorn never.wsgi {
			command /bin/sh -c "exec sleep 600" sh
			bind 127.0.0.1:%d
		}
	}
}
http://:%d {
	django_files {
		wait_timeout 1s
	}
}
`, d.Root, gport2, port2))
	want503AfterWaitTimeout(t, "Gunicorn never ready", site(port2)+"/hello/")
}
