package caddydjango

import (
	"bufio"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzFilePaths sends request paths, parsed exactly as Caddy's HTTP server
// parses a request line, through a provisioned django_files handler (its
// real file_server instances). Property: whatever the path (traversal,
// percent-encoded dots and slashes, backslashes, NUL, overlong UTF-8, drive
// letters, double slashes), a file that is served is one of the public
// files inside the static, media or root_files root: never a file outside
// them, never a dotfile (but under the root's `.well-known`), never a file
// behind a symlink that leaves its root (file and directory symlinks, in
// static, media and root_files), never a protected file, never a file in a
// hidden media folder (`hide`), also through a symlink into it.
//
// The seed corpus (below and testdata/fuzz/FuzzFilePaths) runs in the normal
// suite; fuzz beyond it with
//
//	go test -run '^$' -fuzz FuzzFilePaths -fuzztime 5m .
func FuzzFilePaths(f *testing.F) {
	for _, seed := range []string{
		"/static/css/app.css", "/media/uploads/photo.jpg", "/media/sub/../uploads/photo.jpg",
		"/static/../outside/secret.txt", "/media/%2e%2e/outside/secret.txt", "/media/%2E%2E%2Foutside%2Fsecret.txt",
		"/media/..%2foutside/secret.txt", "/media/..%5coutside%5csecret.txt", "/media/..\\outside\\secret.txt",
		"/media/.env", "/media/%2eenv", "/media/uploads/.hidden", "/static/.git/config",
		"/media/file-link", "/media/dir-link/secret.txt", "/media/private-link/report.pdf", "/media/rel-link",
		"/media/uploads/photo.jpg%00.html", "/media/%c0%ae%c0%ae/outside/secret.txt", "/media/%c0%af",
		"/media/C:/Windows/win.ini", "/media/c:%5cwindows", "//media//uploads//photo.jpg", "/media//etc/passwd",
		"/media/", "/static/", "/media/uploads/", "/protected/report.pdf", "/media/../private/report.pdf",
		"/static/%2e%2e/private/report.pdf", "/media/inner-link", "/MEDIA/uploads/photo.jpg",
		"/static/file-link", "/static/dir-link/secret.txt", "/static/rel-link", "/static/private-link/report.pdf",
		"/media/invoices/inv.pdf", "/media/%69nvoices/inv.pdf", "/media/INVOICES/inv.pdf", "/media/sub/inv-link",
		"/media/invoices%2finv.pdf", "/robots.txt", "/%72obots.txt", "/.well-known/security.txt", "/.env",
		"/.well-known/../.env", "/escape.txt", "/.well-known/.hidden", "/.git/config",
	} {
		f.Add(seed)
	}
	addr, public := newFuzzSite(f)
	f.Fuzz(func(t *testing.T, target string) {
		// only what a client can put on a request line; Caddy's server
		// answers 400 to the rest before any handler runs
		if _, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"))); err != nil {
			return
		}
		code, body := rawGet(t, addr, target)
		if code/100 != 2 {
			return
		}
		if strings.Contains(body, "SECRET") || strings.Contains(body, "PROTECTED") || strings.Contains(body, "HIDDEN") {
			t.Fatalf("%q served a forbidden file: %q", target, body)
		}
		if !public[body] {
			t.Fatalf("%q served unexpected content %q", target, body)
		}
	})
}

// newFuzzSite runs a Caddy whose django_files serves a tree with public files,
// dotfiles, escaping and inner symlinks, a protected root and an outside dir.
func newFuzzSite(tb testing.TB) (string, map[string]bool) {
	base := tb.TempDir()
	dir := func(p ...string) string { return filepath.Join(append([]string{base}, p...)...) }
	public := map[string]bool{}
	for path, content := range map[string]string{
		dir("static", "css", "app.css"):      "public css",
		dir("media", "uploads", "photo.jpg"): "public photo",
		dir("media", "sub", "ok.txt"):        "public ok",
		dir("root", "robots.txt"):            "public robots",
		dir("root", ".well-known", "x.txt"):  "public well-known",
	} {
		mustWrite(tb, path, content)
		public[content] = true
	}
	mustWrite(tb, dir("outside", "secret.txt"), "SECRET outside")
	mustWrite(tb, dir("media", ".env"), "HIDDEN env")
	mustWrite(tb, dir("media", "uploads", ".hidden"), "HIDDEN upload")
	mustWrite(tb, dir("static", ".git", "config"), "HIDDEN git")
	mustWrite(tb, dir("private", "report.pdf"), "PROTECTED report")
	mustWrite(tb, dir("media", "invoices", "inv.pdf"), "HIDDEN invoice")
	mustSymlink(tb, "../invoices/inv.pdf", dir("media", "sub", "inv-link"))
	mustWrite(tb, dir("root", ".env"), "HIDDEN root env")
	mustWrite(tb, dir("root", ".git", "config"), "HIDDEN root git")
	mustWrite(tb, dir("root", ".well-known", ".hidden"), "HIDDEN well-known dotfile")
	mustSymlink(tb, dir("outside", "secret.txt"), dir("root", "escape.txt"))
	for _, root := range []string{"media", "static"} {
		mustSymlink(tb, dir("outside", "secret.txt"), dir(root, "file-link"))
		mustSymlink(tb, dir("outside"), dir(root, "dir-link"))
		mustSymlink(tb, "../outside/secret.txt", dir(root, "rel-link"))
		mustSymlink(tb, dir("private"), dir(root, "private-link"))
	}
	mustSymlink(tb, "sub/ok.txt", dir("media", "inner-link"))

	port := freePort(tb)
	c := startCaddy(tb, base, func(admin string) string {
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\n:%d {\n\tdjango_files {\n\t\tstatic /static/ %s\n\t\tmedia /media/ %s {\n\t\t\thide invoices\n\t\t}\n\t\troot_files %s\n\t\tprotected %s\n\t\tupstream 127.0.0.1:9\n\t\twait_timeout 1ms\n\t}\n}\n",
			admin, port, dir("static"), dir("media"), dir("root"), dir("private"))
	})
	_ = c
	return fmt.Sprintf("127.0.0.1:%d", port), public
}

// TestFuzzHandlerServesPublicFiles guards the fuzz property against a
// handler that serves nothing (which would pass it trivially).
func TestFuzzHandlerServesPublicFiles(t *testing.T) {
	addr, _ := newFuzzSite(t)
	for path, want := range map[string]string{
		"/static/css/app.css":      "public css",
		"/media/uploads/photo.jpg": "public photo",
		"/media/inner-link":        "public ok",
		"/robots.txt":              "public robots",
		"/.well-known/x.txt":       "public well-known",
	} {
		if code, body := rawGet(t, addr, path); code != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, code, body, want)
		}
	}
	for _, path := range []string{"/media/dir-link/secret.txt", "/static/file-link", "/media/sub/inv-link"} {
		if code, _ := rawGet(t, addr, path); code != 404 {
			t.Errorf("%s: escaping symlink: %d, want 404", path, code)
		}
	}
}
