package caddydjango

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// End-to-end tests of django_files' media: hostile uploads are served
// harmless, and large files arrive whole.

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
	port := e.serve("static /static/ "+e.d.StaticRoot, "media /media/ "+e.d.MediaRoot, "upstream "+e.upstream)
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

// TestFilesLargeFilesWhole: files larger than Caddy's 64 KiB write chunk
// arrive whole and byte-exact (sendfile path), in ranges and over a reused
// connection (the Content-Length was exact), for media and static.
func TestFilesLargeFilesWhole(t *testing.T) {
	tester := newFilesTester(t)
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
