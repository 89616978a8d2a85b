package caddydjango

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Unit tests of media `hide`: the configured paths, name matching, and a
// confined filesystem that refuses hidden paths however they are reached.

func TestHandlerHidePathsChecked(t *testing.T) {
	for in, want := range map[string]string{
		"invoices":        "invoices",
		"invoices/":       "invoices",
		"private/cache//": "private/cache",
		"/invoices":       "not absolute",
		"/app/media/x":    "not absolute",
		"":                "is not a path",
		"a/../b":          "no empty, . or .. segments",
		"./invoices":      "no empty, . or .. segments",
		"a//b":            "no empty, . or .. segments",
		`a\b`:             "is not a path",
	} {
		got, err := cleanHidePath(in)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, want) {
			t.Errorf("cleanHidePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHandlerHideMatchesNames(t *testing.T) {
	l, err := newHideList([]string{"invoices", "private/cache"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"invoices":              true,
		"invoices/":             true,
		"invoices/2024/x.pdf":   true,
		"INVOICES/x.pdf":        true, // case-insensitive filesystems
		"Invoices":              true,
		"invoices.pdf":          false,
		"invoices2/x.pdf":       false,
		"public/invoices/x.pdf": false, // paths are from the media root
		"private/cache/a.bin":   true,
		"private/cached.bin":    false,
		"private/x.pdf":         false,
		".":                     false,
	} {
		if got := l.hidesName(name); got != want {
			t.Errorf("hidesName(%q) = %v, want %v", name, got, want)
		}
	}
	var none *hideList
	if none.hidesName("invoices") {
		t.Error("a nil list hides a name")
	}
}

// TestHandlerHideRootFS: a rootFS with hide refuses hidden paths as
// missing, also through symlinks inside the root that lead into them, and
// when the root itself is reached through a symlink.
func TestHandlerHideRootFS(t *testing.T) { checkHideRootFS(t) }

func checkHideRootFS(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real-media")
	mustWrite(t, filepath.Join(real, "invoices", "2024", "inv.pdf"), "INVOICE")
	mustWrite(t, filepath.Join(real, "public", "ok.txt"), "ok")
	mustSymlink(t, "../invoices/2024/inv.pdf", filepath.Join(real, "public", "file-link.pdf"))
	mustSymlink(t, "../invoices", filepath.Join(real, "public", "dir-link"))
	mustSymlink(t, "invoices", filepath.Join(real, "alias"))
	mustSymlink(t, "ok.txt", filepath.Join(real, "public", "inner.txt"))
	root := filepath.Join(base, "media") // MEDIA_ROOT is a symlink
	mustSymlink(t, real, root)

	hide, err := newHideList([]string{"invoices"})
	if err != nil {
		t.Fatal(err)
	}
	f := &rootFS{dir: root, hide: hide}
	defer f.close()
	for name, want := range map[string]string{
		"public/ok.txt":                "ok",
		"public/inner.txt":             "ok",
		"invoices/2024/inv.pdf":        "",
		"Invoices/2024/inv.pdf":        "",
		"invoices":                     "",
		"public/file-link.pdf":         "",
		"public/dir-link/2024/inv.pdf": "",
		"alias/2024/inv.pdf":           "",
	} {
		file, err := f.Open(name)
		_, serr := f.Stat(name)
		if want == "" {
			if err == nil {
				file.Close()
				t.Errorf("Open(%q) succeeded", name)
			} else if !errors.Is(err, fs.ErrNotExist) || !errors.Is(serr, fs.ErrNotExist) {
				t.Errorf("%q: Open %v, Stat %v; want not-exist errors (404)", name, err, serr)
			}
			continue
		}
		if err != nil || serr != nil {
			t.Errorf("%q: Open %v, Stat %v", name, err, serr)
			continue
		}
		b := make([]byte, 10)
		n, _ := file.Read(b)
		file.Close()
		if string(b[:n]) != want {
			t.Errorf("Open(%q) read %q", name, b[:n])
		}
	}
	// without hide, the same symlinks inside the root are served
	open := &rootFS{dir: root}
	defer open.close()
	if _, err := open.Stat("public/file-link.pdf"); err != nil {
		t.Errorf("without hide, a symlink inside the root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "invoices", "2024", "inv.pdf")); err != nil {
		t.Fatal(err)
	}
}

// TestFilesMediaHide: a hidden media folder is a 404 exactly like a
// missing file (same status, headers and body), for every spelling of its
// path and through a symlink inside the media root; Django never sees it.
func TestFilesMediaHide(t *testing.T) {
	e := newFilesEnv(t, 1)
	media := e.d.MediaRoot
	mustWrite(t, filepath.Join(media, "invoices", "2024", "inv.pdf"), "INVOICE")
	mustWrite(t, filepath.Join(media, "cachedfiles", "export.csv"), "INVOICE")
	mustWrite(t, filepath.Join(media, "public", "ok.pdf"), "public")
	mustSymlink(t, "../invoices/2024/inv.pdf", filepath.Join(media, "public", "link.pdf"))
	mustSymlink(t, "../invoices", filepath.Join(media, "public", "dir"))
	port := e.serve("media /media/ "+media+" {\n\t\t\thide invoices\n\t\t\thide cachedfiles/\n\t\t}", "upstream "+e.upstream)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	if st, _, body := rawRequest(t, addr, "GET", "/media/public/ok.pdf"); st != 200 || body != "public" {
		t.Fatalf("a file that is not hidden: %d %q", st, body)
	}
	missSt, missHdr, missBody := rawRequest(t, addr, "GET", "/media/public/missing.pdf")
	if missSt != 404 {
		t.Fatalf("missing file: %d", missSt)
	}
	for _, target := range []string{
		"/media/invoices/2024/inv.pdf",
		"/media/%69nvoices/2024/inv.pdf",
		"/media/%69%6e%76%6f%69%63%65%73/2024/inv.pdf",
		"/media/invoices%2F2024%2Finv.pdf",
		"/media/invoices%2f2024/inv.pdf",
		"/media//invoices/2024/inv.pdf",
		"/media/invoices//2024/inv.pdf",
		"/media/./invoices/2024/inv.pdf",
		"/media/%2e/invoices/2024/inv.pdf",
		"/media/public/../invoices/2024/inv.pdf",
		"/media/public/%2e%2e/invoices/2024/inv.pdf",
		"/media/INVOICES/2024/inv.pdf",
		"/media/invoices./2024/inv.pdf",
		"/media/invoices/2024/inv.pdf.",
		"/media/invoices/2024/inv.pdf?x=1",
		"/media/invoices/",
		"/media/invoices",
		"/media/public/link.pdf",
		"/media/public/dir/2024/inv.pdf",
		"/media/cachedfiles/export.csv",
		"/media/%63achedfiles/export.csv",
	} {
		st, hdr, body := rawRequest(t, addr, "GET", target)
		if st != missSt || body != missBody || strings.Contains(body, "INVOICE") {
			t.Errorf("GET %s: %d %.40q, want %d %q as for a missing file", target, st, body, missSt, missBody)
			continue
		}
		hdr.Del("Date")
		for k := range missHdr {
			if k != "Date" && hdr.Get(k) != missHdr.Get(k) {
				t.Errorf("GET %s: %s %q, a missing file has %q", target, k, hdr.Get(k), missHdr.Get(k))
			}
			hdr.Del(k)
		}
		if len(hdr) != 0 {
			t.Errorf("GET %s: header fields a missing file does not have: %v", target, hdr)
		}
	}
	if st, _, body := rawRequest(t, addr, "HEAD", "/media/invoices/2024/inv.pdf"); st != 404 || body != "" {
		t.Errorf("HEAD of a hidden file: %d %q", st, body)
	}
	if n := e.djangoSaw(site(port), "/media/invoices/2024/inv.pdf"); n != 0 {
		t.Errorf("Django saw a hidden file's request %d times", n)
	}
}
