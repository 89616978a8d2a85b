package caddydjango

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// Tests of root_files: which names are served, how changes are noticed,
// and (end to end) what goes to Django.

func TestHandlerRootFilesNames(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "public")
	mustWrite(t, filepath.Join(base, "secret.txt"), "secret")
	for _, name := range []string{"robots.txt", "favicon.ico", ".well-known/security.txt", ".well-known/acme/x",
		".env", ".git/config", "sub/page.txt", "sub/.hidden", "sub/.well-known/x"} {
		mustWrite(t, filepath.Join(dir, name), name)
	}
	mustSymlink(t, "robots.txt", filepath.Join(dir, "inner.txt"))
	mustSymlink(t, "../secret.txt", filepath.Join(dir, "escape.txt"))
	mustSymlink(t, "sub", filepath.Join(dir, "subdir-link"))
	fsys := &rootFS{dir: dir, wellKnown: true}
	defer fsys.close()
	set := readRootNames(fsys, 100)
	var got []string
	for name := range set.files {
		got = append(got, name)
	}
	sort.Strings(got)
	want := ".well-known/acme/x .well-known/security.txt favicon.ico inner.txt robots.txt sub/page.txt"
	if strings.Join(got, " ") != want {
		t.Errorf("names %q\nwant   %q", strings.Join(got, " "), want)
	}
	if n := len(readRootNames(fsys, 2).files); n != 2 {
		t.Errorf("limit 2: %d names", n)
	}
	missing := &rootFS{dir: filepath.Join(base, "missing"), wellKnown: true}
	defer missing.close()
	if n := len(readRootNames(missing, 100).files); n != 0 {
		t.Errorf("a missing directory has %d names", n)
	}
}

// TestHandlerRootFilesRefresh: files added or removed anywhere in the
// tree are noticed at the next check (at most a second later), and the
// directory created after Caddy started too.
func TestHandlerRootFilesRefresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "public")
	site := &rootFilesSite{dir: dir, fs: &rootFS{dir: dir, wellKnown: true}, logger: zap.NewNop()}
	defer site.fs.close()
	now := time.Now().UnixNano()
	later := func() int64 { now += int64(time.Second); return now }
	if site.names.has(site, "robots.txt", now) {
		t.Fatal("robots.txt before the directory exists")
	}
	mustWrite(t, filepath.Join(dir, "robots.txt"), "x")
	if site.names.has(site, "robots.txt", now) {
		t.Error("checked again within the second")
	}
	if !site.names.has(site, "robots.txt", later()) {
		t.Error("the directory created later is not read")
	}
	mustWrite(t, filepath.Join(dir, ".well-known", "a", "b.txt"), "x")
	if !site.names.has(site, ".well-known/a/b.txt", later()) {
		t.Error("a new file in a new subdirectory is not noticed")
	}
	mustWrite(t, filepath.Join(dir, ".well-known", "a", "c.txt"), "x")
	if !site.names.has(site, ".well-known/a/c.txt", later()) {
		t.Error("a new file in an existing subdirectory is not noticed")
	}
	if err := os.Remove(filepath.Join(dir, "robots.txt")); err != nil {
		t.Fatal(err)
	}
	if site.names.has(site, "robots.txt", later()) {
		t.Error("a removed file is still listed")
	}
}

// TestFilesRootFiles: root_files serves the directory's files at the site
// root before Django, with WhiteNoise's headers, and sends everything else
// (other methods, dotfiles, escaping symlinks, directories, odd spellings,
// the static and media prefixes) where it went before.
func TestFilesRootFiles(t *testing.T) {
	e := newFilesEnv(t, 1)
	dir := t.TempDir()
	mustWrite(t, filepath.Join(e.d.Root, "secret.txt"), "TOP-SECRET")
	mustWrite(t, filepath.Join(dir, "robots.txt"), "User-agent: *\n")
	mustWrite(t, filepath.Join(dir, ".well-known", "security.txt"), "Contact: x\n")
	mustWrite(t, filepath.Join(dir, ".env"), "TOP-SECRET")
	mustWrite(t, filepath.Join(dir, "static", "shadow.css"), "TOP-SECRET")
	mustWrite(t, filepath.Join(dir, "sub", "index.html"), "TOP-SECRET")
	mustSymlink(t, filepath.Join(e.d.Root, "secret.txt"), filepath.Join(dir, "escape.txt"))
	port := e.serve("static /static/ "+e.d.StaticRoot, "media /media/ "+e.d.MediaRoot, "root_files "+dir, "upstream "+e.upstream)
	s := site(port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	for target, body := range map[string]string{
		"/robots.txt":                "User-agent: *\n",
		"/%72obots.txt":              "User-agent: *\n",
		"/.well-known/security.txt":  "Contact: x\n",
		"/.well-known/security.txt?": "Contact: x\n",
	} {
		st, h, got := rawRequest(t, addr, "GET", target)
		if st != 200 || got != body {
			t.Errorf("GET %s: %d %q", target, st, got)
			continue
		}
		wantHeader(t, h, "Cache-Control", "public, max-age=60")
		wantHeader(t, h, "Access-Control-Allow-Origin", "*")
		wantHeader(t, h, "Content-Type", "text/plain; charset=utf-8")
		if h.Get("Etag") == "" || h.Get("Last-Modified") == "" {
			t.Errorf("GET %s: no ETag/Last-Modified", target)
		}
	}
	if n := e.djangoSaw(s, "/robots.txt"); n != 0 {
		t.Errorf("Django saw /robots.txt %d times", n)
	}

	// everything else goes where it went before: Django, or static
	for _, target := range []string{"/.env", "/escape.txt", "/sub/", "/sub", "//robots.txt", "/./robots.txt", "/robots.txt/",
		"/.well-known%2fsecurity.txt", "/static/shadow.css", "/missing.txt"} {
		st, _, body := rawRequest(t, addr, "GET", target)
		if st == 200 || strings.Contains(body, "TOP-SECRET") {
			t.Errorf("GET %s: %d %.40q", target, st, body)
		}
	}
	for _, p := range []string{"/.env", "/escape.txt", "/missing.txt"} {
		if n := e.djangoSaw(s, p); n != 1 {
			t.Errorf("Django saw GET %s %d times, want 1", p, n)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s+"/robots.txt", strings.NewReader("x"))
	if st, _, body := e.do(req); st == 200 && strings.Contains(body, "User-agent") {
		t.Errorf("POST /robots.txt was answered from the file: %d", st)
	}
	if n := e.djangoSaw(s, "/robots.txt"); n != 1 {
		t.Errorf("Django saw POST /robots.txt %d times, want 1", n)
	}

	// added and removed files are noticed without a reload
	mustWrite(t, filepath.Join(dir, "humans.txt"), "humans")
	waitFor(t, 10*time.Second, func() bool {
		st, _, body := e.get(s+"/humans.txt", nil)
		return st == 200 && body == "humans"
	}, "a new root file to be served")
	if err := os.Remove(filepath.Join(dir, "robots.txt")); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.get(s+"/robots.txt", nil); st == 200 {
		t.Errorf("a removed root file is still served")
	}
	if n := e.djangoSaw(s, "/robots.txt"); n != 2 {
		t.Errorf("Django saw /robots.txt %d times after it was removed, want 2", n)
	}
}
