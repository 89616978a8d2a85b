package caddydjango

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Tests of django_files' static files end to end: immutable caching,
// precompressed sidecars and the compressor, and symlinks (the manifest
// cache in process: manifest_test.go; the compressor: compressor_test.go).

func TestFilesStaticCaching(t *testing.T) {
	e := newFilesEnv(t, 1)
	port := e.serve("static /static/ "+e.d.StaticRoot, "media /media/ "+e.d.MediaRoot, "upstream "+e.upstream)
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
	port := e.serve("static /static/ "+e.d.StaticRoot, "upstream "+e.upstream)
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
	port := e.serve("static /static/ "+e.d.StaticRoot+" {\n\t\t\tcompress\n\t\t}", "upstream "+e.upstream)
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

// TestFilesStaticSymlinks: by default a static path may not leave the
// static root through a symlink; `collectstatic --link` trees (every
// unhashed file a symlink into the app's sources) need follow_symlinks.
func TestFilesStaticSymlinks(t *testing.T) {
	tester := newFilesTester(t)
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
	confined, following := freePort(t), freePort(t)
	loadFilesConfig(t, tester, filesSite(confined, "upstream 127.0.0.1:1", "static /static/ "+linked)+
		filesSite(following, "upstream 127.0.0.1:1", "static /static/ "+linked+" {\n\t\t\tfollow_symlinks\n\t\t}"))
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
