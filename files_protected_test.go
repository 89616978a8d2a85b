package caddydjango

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of protected downloads (X-Accel-Redirect and X-Sendfile): the
// targets a response may name, in process, and the downloads end to end.

func TestHandlerProtectedTargets(t *testing.T) {
	p := &protectedSite{dir: "/srv/private", realDir: "/data/private", prefix: "/protected/"}
	for _, tc := range []struct {
		v, want string
		ok      bool
	}{
		{"/protected/report.pdf", "report.pdf", true},
		{"/protected/uploads/a%20b.pdf", "uploads/a b.pdf", true},
		{"/protected/r%C3%A9sum%C3%A9.pdf", "résumé.pdf", true},
		{"/protected/report.pdf?x=1", "report.pdf", true},
		{"/protected/../settings.py", "", false},
		{"/protected/%2e%2e/settings.py", "", false},
		{"/protected/a/%2e%2e/%2e%2e/x", "", false},
		{"/protected/..%2fsettings.py", "", false},
		{"/protected/a%5c..%5cb", "", false},
		{"/protected/a%00b", "", false},
		{"/protected/.env", "", false},
		{"/protected/", "", false},
		{"/protected/dir/", "", false},
		{"/protected//etc/passwd", "", false},
		{"/other/report.pdf", "", false},
		{"protected/report.pdf", "", false},
		{"/protected/%zz", "", false},
		{"", "", false},
	} {
		got, ok := p.accelTarget(tc.v)
		if ok != tc.ok || got != tc.want {
			t.Errorf("accelTarget(%q) = %q, %v; want %q, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		v, want string
		ok      bool
	}{
		{"/srv/private/report.pdf", "report.pdf", true},
		{"/srv/private/uploads/x.txt", "uploads/x.txt", true},
		{"/data/private/report.pdf", "report.pdf", true}, // the root's real path
		{"/srv/private/../secret", "", false},
		{"/srv/private/a/../../secret", "", false},
		{"/srv/private", "", false},
		{"/srv/private/", "", false},
		{"/srv/privateer/x", "", false},
		{"/srv/private/.env", "", false},
		{"/etc/passwd", "", false},
		{"report.pdf", "", false},
		{"/srv/private/a\x00b", "", false},
		{"", "", false},
	} {
		got, ok := p.sendfileTarget(tc.v)
		if ok != tc.ok || got != tc.want {
			t.Errorf("sendfileTarget(%q) = %q, %v; want %q, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFilesProtectedDownloads(t *testing.T) {
	e := newFilesEnv(t, 2)
	port, bare := freePort(t), freePort(t)
	static, media, upstream := "static /static/ "+e.d.StaticRoot, "media /media/ "+e.d.MediaRoot, "upstream "+e.upstream
	e.load(filesSite(port, static, media, "protected "+e.d.PrivateRoot, upstream) + filesSite(bare, static, media, upstream))
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
