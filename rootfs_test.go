package caddydjango

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Tests of the confined filesystem, in process (see also
// rootfs_linux_test.go).

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
