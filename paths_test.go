package caddydjango

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of path safety: request paths and the confined filesystem in
// process, hostile request lines end to end (see also paths_fuzz_test.go).

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

func TestHandlerRootFSConfines(t *testing.T) { checkRootFSConfines(t) }

// checkRootFSConfines: paths and symlinks cannot leave a rootFS, dotfiles
// are hidden, and a replaced or late directory is picked up.
func checkRootFSConfines(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "media")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(outside, "secret.txt"), "secret")
	mustWrite(t, filepath.Join(root, "sub", "ok.txt"), "ok")
	mustWrite(t, filepath.Join(root, ".hidden"), "hidden")
	mustSymlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(root, "file-link"))
	mustSymlink(t, outside, filepath.Join(root, "dir-link"))
	mustSymlink(t, "../outside/secret.txt", filepath.Join(root, "rel-link"))
	mustSymlink(t, "sub/ok.txt", filepath.Join(root, "inner-link"))

	f := &rootFS{dir: root}
	defer f.close()
	for name, want := range map[string]string{
		"sub/ok.txt":          "ok",
		"inner-link":          "ok", // symlinks inside the root are fine
		"file-link":           "",
		"dir-link/secret.txt": "",
		"rel-link":            "",
		".hidden":             "",
		"../outside/secret":   "",
		"/etc/passwd":         "",
		"sub/../../outside":   "",
	} {
		file, err := f.Open(name)
		if want == "" {
			if err == nil {
				file.Close()
				t.Errorf("Open(%q) succeeded", name)
			} else if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open(%q) = %v, want a not-exist error (404)", name, err)
			}
			if _, err := f.Stat(name); err == nil {
				t.Errorf("Stat(%q) succeeded", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		b, _ := io.ReadAll(file.(io.Reader))
		file.Close()
		if string(b) != want {
			t.Errorf("Open(%q) read %q", name, b)
		}
	}

	// the directory may be replaced (deploy): picked up within a second
	if err := os.Rename(root, root+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "sub", "ok.txt"), "new")
	f.nextCheck.Store(0) // as if a second passed
	file, err := f.Open("sub/ok.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(file.(io.Reader))
	file.Close()
	if string(b) != "new" {
		t.Fatalf("replaced directory not picked up: read %q", b)
	}

	// a root that does not exist yet (MEDIA_ROOT before the first upload)
	late := &rootFS{dir: filepath.Join(base, "late")}
	defer late.close()
	if _, err := late.Stat("x.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing root: %v", err)
	}
	mustWrite(t, filepath.Join(base, "late", "x.txt"), "x")
	if _, err := late.Stat("x.txt"); err != nil {
		t.Fatalf("root created later is not used at once: %v", err)
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
