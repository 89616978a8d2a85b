package caddydjango

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of path safety: request paths in process, hostile request lines
// end to end (see also paths_fuzz_test.go; the confined filesystem:
// rootfs_test.go).

func TestHandlerRequestPathSafety(t *testing.T) {
	for _, tc := range []struct {
		rel, raw string
		ok       bool
	}{
		{"css/app.css", "", true},
		{"uploads/a b.png", "", true},
		{"uploads/", "", true}, // a directory URL: the file server answers 404
		{"", "", false},
		{"../secret", "", false},
		{"a/../../secret", "", false},
		{"a/./b", "", false},
		{"a//b", "", false},
		{"/etc/passwd", "", false},
		{"a\\..\\b", "", false},
		{"a\x00.png", "", false},
		{".env", "", false},
		{"a/.git/config", "", false},
		{"a/..", "", false},
		{"a/b", "/media/a%2Fb", false},
		{"a/b", "/media/a%2fb", false},
		{"a\\b", "/media/a%5Cb", false},
		{"a b", "/media/a%20b", true},
	} {
		if got := safeRequestPath(tc.rel, tc.raw); got != tc.ok {
			t.Errorf("safeRequestPath(%q, %q) = %v, want %v", tc.rel, tc.raw, got, tc.ok)
		}
	}
}

func TestNormalizePrefix(t *testing.T) {
	for in, want := range map[string]string{"": "/default/", "/static": "/static/", "/static/": "/static/", "/a/b": "/a/b/"} {
		if got, err := normalizePrefix(in, "/default/"); err != nil || got != want {
			t.Errorf("normalizePrefix(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"static/": `URL prefix "static/" must start with /`,
		"/":       "URL prefix must not be /",
		"/a//b":   `URL prefix "/a//b" must be a plain path`,
		"/a/../b": `URL prefix "/a/../b" must be a plain path`,
		"/s/*":    `URL prefix "/s/*" must be a plain path`,
		"/s?x":    `URL prefix "/s?x" must be a plain path`,
	} {
		if _, err := normalizePrefix(in, "/default/"); err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("normalizePrefix(%q): %v, want %q", in, err, msg)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		path, dir string
		want      bool
	}{
		{"/srv/media", "/srv/media", true},
		{"/srv/media/private", "/srv/media", true},
		{"/srv/media-private", "/srv/media", false},
		{"/srv", "/srv/media", false},
		{"/other", "/srv/media", false},
	} {
		if got := within(tc.path, tc.dir); got != tc.want {
			t.Errorf("within(%q, %q) = %v, want %v", tc.path, tc.dir, got, tc.want)
		}
	}
}

// TestFilesEncodedTraversal sends hostile request lines verbatim.
func TestFilesEncodedTraversal(t *testing.T) {
	e := newFilesEnv(t, 2)
	port := e.serve("static /static/ "+e.d.StaticRoot, "media /media/ "+e.d.MediaRoot, "protected "+e.d.PrivateRoot, "upstream "+e.upstream)
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
