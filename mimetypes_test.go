package caddydjango

import (
	"fmt"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The types a web app ships come from django_files' own table, the same on
// every host (issue 11, item 5).
func TestContentTypeTable(t *testing.T) {
	for name, want := range map[string]string{
		"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
		"mod.mjs": "text/javascript; charset=utf-8", "app.js.map": "application/json",
		"data.json": "application/json", "site.webmanifest": "application/manifest+json",
		"page.html": "text/html; charset=utf-8", "notes.txt": "text/plain; charset=utf-8",
		"feed.xml": "text/xml; charset=utf-8", "logo.svg": "image/svg+xml", "favicon.ico": "image/x-icon",
		"a.png": "image/png", "a.jpg": "image/jpeg", "a.jpeg": "image/jpeg", "a.gif": "image/gif",
		"a.webp": "image/webp", "a.avif": "image/avif", "f.woff": "font/woff", "f.woff2": "font/woff2",
		"f.ttf": "font/ttf", "f.otf": "font/otf", "m.wasm": "application/wasm", "r.pdf": "application/pdf",
		"v.mp4": "video/mp4", "v.webm": "video/webm", "s.mp3": "audio/mpeg", "s.ogg": "audio/ogg",
		"b.zip": "application/zip", "t.csv": "text/csv; charset=utf-8",
		// case does not matter; only the last extension counts
		"LOGO.PNG": "image/png", "Site.WebManifest": "application/manifest+json", "app.css.gz": "application/gzip",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestContentTypeFallbacks(t *testing.T) {
	// not in the table: the host's type (Go's built-in one here)
	docx := "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	if got := contentType("letter.docx"); got != docx || mime.TypeByExtension(".docx") != docx {
		t.Errorf("contentType(letter.docx) = %q, want the host's %q", got, docx)
	}
	for _, name := range []string{"blob.zzq-unknown", "README", "dir/"} {
		if got := contentType(name); got != "application/octet-stream" {
			t.Errorf("contentType(%q) = %q, want application/octet-stream", name, got)
		}
	}

	// a type already set (Django's, a `header` directive) is kept
	hdr := http.Header{"Content-Type": {"text/x-mine"}}
	if setContentType(hdr, "a.css") || hdr.Get("Content-Type") != "text/x-mine" {
		t.Errorf("setContentType replaced %q", hdr.Get("Content-Type"))
	}
	hdr = http.Header{}
	if !setContentType(hdr, "a.map") || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("setContentType set %q", hdr.Get("Content-Type"))
	}
}

// hideMimeTables is a command prefix (Linux, root) that runs Caddy in a
// private mount namespace where the files Go's mime package reads (see
// GOROOT/src/mime/type_unix.go) are gone or empty, as on a slim image.
func hideMimeTables(t *testing.T) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("mount namespaces are Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --mount")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("unshare (util-linux) is needed: %v", err)
	}
	script := `set -e
for d in /usr/local/share/mime /usr/share/mime; do
	if [ -d "$d" ]; then mount -t tmpfs none "$d"; fi
done
for f in /etc/mime.types /etc/apache2/mime.types /etc/apache/mime.types /etc/httpd/conf/mime.types; do
	if [ -e "$f" ]; then mount --bind /dev/null "$f"; fi
done
if [ -e /usr/share/mime/globs2 ] || [ -s /etc/mime.types ]; then echo "mime tables still visible" >&2; exit 97; fi
exec "$@"`
	return []string{unshare, "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"}
}

// Static, media and protected files get the table's types through a real
// Caddy, with the host's tables and with them hidden. Before, .webmanifest
// and .map had no Content-Type on Debian, and .woff2 none on a slim image.
func TestFilesContentTypesSameOnEveryHost(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	d := newDjangoProject(t)
	upstream := d.startGunicorn(t, 1)
	names := map[string]string{ // file name -> type
		"site.webmanifest": "application/manifest+json",
		"app.js.map":       "application/json",
		"font.woff2":       "font/woff2",
		"blob.zzq":         "application/octet-stream",
	}
	for name := range names {
		for _, dir := range []string{d.StaticRoot, d.MediaRoot, d.PrivateRoot} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte("content of "+name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		prefix func(*testing.T) []string
	}{
		{"host tables", func(*testing.T) []string { return nil }},
		{"tables hidden", hideMimeTables},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := tc.prefix(t)
			port := freePort(t)
			startCaddyVia(t, prefix, t.TempDir(), func(admin string) string {
				return fmt.Sprintf(`{
	admin %s
	persist_config off
}
http://127.0.0.1:%d {
	django_files {
		static /static/ %s
		media /media/ %s
		protected %s
		upstream %s
	}
}
`, admin, port, d.StaticRoot, d.MediaRoot, d.PrivateRoot, upstream)
			})
			s := site(port)
			for name, want := range names {
				for _, u := range []string{"/static/" + name, "/media/" + name, "/download/" + name + "?token=letmein&notype=1"} {
					st, h := headOf(t, s+u)
					if st != 200 || h.Get("Content-Type") != want {
						t.Errorf("%s: %d, Content-Type %q, want %q", u, st, h.Get("Content-Type"), want)
					}
				}
			}
			// the media rules for types that may not be shown inline still hold
			for name, attach := range map[string]bool{"blob.zzq": true, "site.webmanifest": true, "font.woff2": false} {
				_, h := headOf(t, s+"/media/"+name)
				if got := h.Get("Content-Disposition") == "attachment"; got != attach {
					t.Errorf("/media/%s: Content-Disposition %q, want attachment=%v", name, h.Get("Content-Disposition"), attach)
				}
			}
			// no file, no type of a file that is not there
			if st, h := headOf(t, s+"/static/missing.css"); st != 404 || strings.HasPrefix(h.Get("Content-Type"), "text/css") {
				t.Errorf("/static/missing.css: %d, Content-Type %q", st, h.Get("Content-Type"))
			}
		})
	}
}

// headOf GETs url (no compression) and returns the status and headers.
func headOf(t *testing.T, url string) (int, http.Header) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}
