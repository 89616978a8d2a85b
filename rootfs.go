package caddydjango

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// rootFS is an fs.FS confined to a directory: paths and symlinks cannot
// leave it (os.Root; on Linux, files are opened with openat2 and
// RESOLVE_BENEATH, one system call where os.Root walks the path). Dotfiles
// are hidden. Every failure is reported as "does not exist" (a 404). The
// directory may appear after Caddy starts and may be replaced (checked at
// most once per second). With hide, hidden paths are refused as missing,
// however they are reached.
type rootFS struct {
	dir string
	// wellKnown lets `.well-known` (RFC 8615) through as the first
	// segment: the one dot-directory served (root_files).
	wellKnown bool
	// hide refuses hidden paths, also reached through symlinks (media
	// `hide`); nil hides nothing. Set before the first request.
	hide      *hideList
	mu        sync.Mutex
	root      atomic.Pointer[rootHandle]
	nextCheck atomic.Int64
	retired   []*rootHandle
}

// rootHandle is one opened instance of the directory. A replaced one stays
// open until the filesystem is closed: requests may still use it.
type rootHandle struct {
	root *os.Root
	dir  *os.File // the same directory, for openat2; nil when not used
	real string   // the directory's path without symlinks (with hide only)
}

func (h *rootHandle) close() {
	h.root.Close()
	if h.dir != nil {
		h.dir.Close()
	}
}

func (f *rootFS) current() *rootHandle {
	r := f.root.Load()
	now := time.Now().UnixNano()
	if r != nil && now < f.nextCheck.Load() {
		return r
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r = f.root.Load(); r != nil && now < f.nextCheck.Load() {
		return r
	}
	f.nextCheck.Store(now + int64(time.Second))
	fi, err := os.Stat(f.dir)
	if r != nil {
		if err == nil {
			if rfi, err := r.root.Stat("."); err == nil && os.SameFile(fi, rfi) {
				return r
			}
		}
		f.retired = append(f.retired, r) // replaced or removed
		f.root.Store(nil)
	}
	if err != nil {
		return nil
	}
	nr, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil
	}
	h := &rootHandle{root: nr}
	if f.hide != nil {
		h.real, _ = filepath.EvalSymlinks(f.dir)
	}
	if beneathSupported() {
		if d, err := os.Open(f.dir); err == nil {
			if dfi, err := d.Stat(); err == nil && os.SameFile(fi, dfi) {
				h.dir = d
			} else {
				d.Close()
			}
		}
	}
	f.root.Store(h)
	return h
}

func (f *rootFS) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.root.Swap(nil); r != nil {
		r.close()
	}
	for _, r := range f.retired {
		r.close()
	}
	f.retired = nil
}

func fsNotExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func validFSName(name string) bool {
	return name == "." || (fs.ValidPath(name) && safeRelName(name))
}

// lookup returns the directory to look name up in, or nil when name is not
// a plain relative name without dotfiles or the directory is missing.
func (f *rootFS) lookup(name string) *rootHandle {
	if !validFSName(name) && !(f.wellKnown && validWellKnownName(name)) {
		return nil
	}
	if f.hide.hidesName(name) {
		return nil
	}
	return f.current()
}

// validWellKnownName reports whether name is `.well-known` or a plain
// name under it.
func validWellKnownName(name string) bool {
	rest, ok := strings.CutPrefix(name, ".well-known")
	return ok && (rest == "" || (rest[0] == '/' && validFSName(rest[1:])))
}

// Open implements fs.FS.
func (f *rootFS) Open(name string) (fs.File, error) {
	r := f.lookup(name)
	if r == nil {
		return nil, fsNotExist("open", name)
	}
	file, err := r.open(name)
	if err != nil {
		return nil, fsNotExist("open", name)
	}
	if f.hide.hidesFile(r.real, name, file) {
		file.Close()
		return nil, fsNotExist("open", name)
	}
	return file, nil
}

// open opens name with openat2 when it can, else with os.Root.
func (r *rootHandle) open(name string) (*os.File, error) {
	if r.dir != nil {
		if file, err, ok := openBeneath(r.dir, name); ok {
			return file, err
		}
	}
	return r.root.Open(name)
}

// Stat implements fs.StatFS.
func (f *rootFS) Stat(name string) (fs.FileInfo, error) {
	if f.hide != nil {
		// the real path of what name leads to is known once it is open
		file, err := f.Open(name)
		if err != nil {
			return nil, fsNotExist("stat", name)
		}
		defer file.Close()
		return file.Stat()
	}
	r := f.lookup(name)
	if r == nil {
		return nil, fsNotExist("stat", name)
	}
	fi, err := r.root.Stat(name)
	if err != nil {
		return nil, fsNotExist("stat", name)
	}
	return fi, nil
}

// Interface guards
var _ fs.StatFS = (*rootFS)(nil)
