package caddydjango

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// hideList is a media `hide` list: paths relative to the media root
// (clean, slash-separated) that are never served, nor anything under them.
// Names match without regard to case, so a case-insensitive filesystem
// cannot be used to reach a hidden folder by another spelling (it hides
// `Invoices` on a case-sensitive one too).
type hideList struct {
	paths []string
}

// newHideList checks the configured hide paths: each must be a plain
// relative path inside the root (`invoices`, `private/cache`), not
// absolute, with no `.`, `..` or empty segments. A trailing slash is
// ignored. nil when there is nothing to hide.
func newHideList(paths []string) (*hideList, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	l := &hideList{}
	for _, p := range paths {
		clean, err := cleanHidePath(p)
		if err != nil {
			return nil, err
		}
		l.paths = append(l.paths, clean)
	}
	return l, nil
}

// cleanHidePath checks one hide path and returns it without trailing
// slashes.
func cleanHidePath(p string) (string, error) {
	if strings.HasPrefix(p, "/") || filepath.IsAbs(p) {
		return "", fmt.Errorf("hide %q: write the path relative to the media root (e.g. invoices), not absolute", p)
	}
	clean := strings.TrimRight(p, "/")
	if clean == "" || strings.ContainsAny(clean, "\\\x00") {
		return "", fmt.Errorf("hide %q is not a path inside the media root", p)
	}
	for _, seg := range strings.Split(clean, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("hide %q: a path inside the media root has no empty, . or .. segments", p)
		}
	}
	return clean, nil
}

// hidesName reports whether name (slash-separated, relative to the root)
// is a hidden path or lies under one. A nil list hides nothing.
func (l *hideList) hidesName(name string) bool {
	if l == nil {
		return false
	}
	name = strings.TrimRight(name, "/")
	for _, p := range l.paths {
		if len(name) < len(p) || !strings.EqualFold(name[:len(p)], p) {
			continue
		}
		if len(name) == len(p) || name[len(p)] == '/' {
			return true
		}
	}
	return false
}

// hidesFile reports whether f, opened as name in the root whose real
// (symlink-free) path is realRoot, is hidden: its name, or its real path
// when a symlink inside the root leads into a hidden path. A file whose
// real path cannot be told is hidden.
func (l *hideList) hidesFile(realRoot, name string, f *os.File) bool {
	if l == nil {
		return false
	}
	if realRoot == "" {
		return true
	}
	real, err := realPathOf(f, realRoot, name)
	if err != nil {
		return true
	}
	rel, err := filepath.Rel(realRoot, real)
	if err != nil || !filepath.IsLocal(rel) {
		return true // outside the root: the root was replaced meanwhile
	}
	return l.hidesName(filepath.ToSlash(rel))
}

// realPathOf is the path of the open file f with every symlink resolved:
// on Linux what the kernel says the descriptor is (no race with a
// replaced symlink), elsewhere (or without /proc) name resolved under
// root.
func realPathOf(f *os.File, root, name string) (string, error) {
	if runtime.GOOS == "linux" {
		if rc, err := f.SyscallConn(); err == nil {
			var p string
			var rerr error
			cerr := rc.Control(func(fd uintptr) {
				p, rerr = os.Readlink("/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10))
			})
			if cerr == nil && rerr == nil && filepath.IsAbs(p) {
				return p, nil
			}
		}
	}
	return filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(name)))
}
