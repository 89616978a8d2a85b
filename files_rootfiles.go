package caddydjango

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
	"go.uber.org/zap"
)

// RootFiles configures files served at the site root, as WhiteNoise's
// WHITENOISE_ROOT: `robots.txt`, `favicon.ico`, `.well-known/…`.
//
// A GET or HEAD whose path names a regular file in the directory is
// served from it (before Django, with a short max-age, ETag and
// Last-Modified, precompressed sidecars, `Access-Control-Allow-Origin: *`
// as WhiteNoise); every other request, and every other method, goes to
// Django unchanged. Directories are never served (no index files).
// Dotfiles are not served, except under a top-level `.well-known`
// (RFC 8615). Files are opened inside the directory only, as static
// files. The static and media prefixes and the health path are matched
// first, so a root file cannot shadow them. The directory's list of names
// is kept in memory and re-read when one of its directories changes
// (checked at most once a second), so a request that goes to Django costs
// a map lookup, not a file system call.
type RootFiles struct {
	// Directory of the files; relative paths are relative to the django
	// app's root (or Caddy's working directory). Required.
	Root string `json:"root,omitempty"`

	// max-age of the files. Default: 60s (as WhiteNoise's
	// WHITENOISE_MAX_AGE).
	MaxAge caddy.Duration `json:"max_age,omitempty"`

	// Do not serve root files.
	Disabled bool `json:"disabled,omitempty"`
}

// maxRootFiles bounds the names kept in memory for root_files; files
// beyond it are not served (a warning says so).
const maxRootFiles = 10000

// rootFilesSite is the provisioned root_files configuration.
type rootFilesSite struct {
	dir    string
	fs     *rootFS
	srv    *fileserver.FileServer
	cache  string
	names  rootNames
	logger *zap.Logger
}

// provisionRootFiles sets up root_files when configured.
func (h *DjangoFiles) provisionRootFiles(ctx caddy.Context) error {
	rf := h.RootFiles
	if rf == nil || rf.Disabled {
		return nil
	}
	if strings.TrimSpace(rf.Root) == "" {
		return fmt.Errorf("root_files: root is required (the directory of robots.txt, favicon.ico...)")
	}
	dir, err := h.resolveDir("root_files", rf.Root, "")
	if err != nil {
		return fmt.Errorf("root_files: %v", err)
	}
	maxAge := durationOr(rf.MaxAge, defaultStaticMaxAge)
	if maxAge < 0 {
		return fmt.Errorf("root_files: max_age must not be negative")
	}
	if h.rootFiles, err = h.newRootFilesSite(ctx, dir, maxAge); err != nil {
		return fmt.Errorf("root_files: %v", err)
	}
	return nil
}

// mediaOverlap is the error when dir, a root files directory, and the
// media root m overlap: uploads would be served at the site root without
// media's protections.
func mediaOverlap(dir string, m *mediaSite) error {
	if m != nil && m.dir != "" && (within(dir, m.dir) || within(m.dir, dir)) {
		return fmt.Errorf("directory %s overlaps the media root %s: uploads would be served at the site root without media's protections", dir, m.dir)
	}
	return nil
}

// newRootFilesSite provisions the file_server of root files from dir
// (absolute) with the given max-age. dir may not overlap the media root
// (call it after the media site is set up): uploads would be served at
// the site root without media's protections.
func (h *DjangoFiles) newRootFilesSite(ctx caddy.Context, dir string, maxAge time.Duration) (*rootFilesSite, error) {
	if err := mediaOverlap(dir, h.media); err != nil {
		return nil, err
	}
	site := &rootFilesSite{dir: dir, cache: publicMaxAge(maxAge), logger: h.logger}
	var err error
	if site.srv, site.fs, err = h.fileServer(ctx, dir, false, true); err != nil {
		return nil, fmt.Errorf("provisioning file_server: %v", err)
	}
	site.fs.wellKnown = true
	return site, nil
}

// matches reports whether r is a GET or HEAD of a file in the directory.
func (s *rootFilesSite) matches(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if len(p) < 2 || p[0] != '/' || containsFoldAny(r.URL.RawPath, "%2f", "%5c", "%00") {
		return false
	}
	return s.names.has(s, p[1:], time.Now().UnixNano())
}

// serveRootFile serves the root file r names; when it is gone after all
// (deleted since the names were read), the request goes to Django.
func (h *DjangoFiles) serveRootFile(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, s *rootFilesSite) error {
	hdr := w.Header()
	hdr["Cache-Control"] = []string{s.cache}
	hdr["Access-Control-Allow-Origin"] = []string{"*"}
	typed := setContentType(hdr, r.URL.Path)
	err := serveRewritten(s.srv, w, r, next, r.URL.Path)
	if err == nil {
		return nil
	}
	delete(hdr, "Cache-Control")
	delete(hdr, "Access-Control-Allow-Origin")
	if typed {
		delete(hdr, "Content-Type")
	}
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
		return h.serveProxy(w, r, next)
	}
	return err
}

// rootNames is the in-memory list of the files in a root_files directory.
type rootNames struct {
	mu        sync.Mutex
	cur       atomic.Pointer[rootNameSet]
	nextCheck atomic.Int64
}

// rootNameSet is one reading of the directory tree.
type rootNameSet struct {
	files map[string]struct{}
	dirs  []dirStamp // every directory read, to notice a change
	// racy: a directory changed less than a second before it was read;
	// a change in the same tick of the file system's clock would leave
	// its modification time as it was, so the next check reads again.
	racy bool
}

// dirStamp is a directory as it was when read (fi nil: it was missing).
type dirStamp struct {
	name string
	fi   fs.FileInfo
}

// has reports whether name is a file of the directory, checking the
// directories for changes at most once a second.
func (n *rootNames) has(s *rootFilesSite, name string, now int64) bool {
	set := n.cur.Load()
	if set == nil || now >= n.nextCheck.Load() {
		set = n.refresh(s, now)
	}
	_, ok := set.files[name]
	return ok
}

// refresh re-reads the names when a directory changed. While another
// request re-reads them, the previous names are used.
func (n *rootNames) refresh(s *rootFilesSite, now int64) *rootNameSet {
	cur := n.cur.Load()
	if cur == nil {
		n.mu.Lock()
	} else if !n.mu.TryLock() {
		return cur
	}
	defer n.mu.Unlock()
	if cur = n.cur.Load(); cur != nil && now < n.nextCheck.Load() {
		return cur
	}
	n.nextCheck.Store(now + int64(time.Second))
	if cur != nil && !cur.changed(s.fs) {
		return cur
	}
	set := readRootNames(s.fs, maxRootFiles)
	if len(set.files) >= maxRootFiles {
		s.logger.Warn("root_files: too many files, only the first ones are served", zap.String("dir", s.dir), zap.Int("served", maxRootFiles))
	}
	n.cur.Store(set)
	return set
}

// changed reports whether a directory read for set changed since.
func (set *rootNameSet) changed(fsys fs.StatFS) bool {
	if set.racy {
		return true
	}
	for _, d := range set.dirs {
		fi, err := fsys.Stat(d.name)
		if (d.fi == nil) != (err != nil) {
			return true
		}
		if d.fi != nil && (!os.SameFile(d.fi, fi) || !d.fi.ModTime().Equal(fi.ModTime())) {
			return true
		}
	}
	return false
}

// readRootNames lists the regular files (and symlinks to regular files
// inside the root) of fsys, up to limit, skipping dotfiles except a
// top-level `.well-known`.
func readRootNames(fsys *rootFS, limit int) *rootNameSet {
	recent := time.Now().Add(-time.Second)
	rootInfo, _ := fsys.Stat(".")
	set := &rootNameSet{files: map[string]struct{}{}, dirs: []dirStamp{{".", rootInfo}}}
	if rootInfo == nil {
		return set
	}
	set.racy = rootInfo.ModTime().After(recent)
	fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || name == ".":
			return nil
		case strings.HasPrefix(d.Name(), ".") && name != ".well-known":
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case len(set.files) >= limit:
			return fs.SkipAll
		case d.IsDir():
			if fi, err := d.Info(); err == nil {
				set.dirs = append(set.dirs, dirStamp{name, fi})
				set.racy = set.racy || fi.ModTime().After(recent)
			}
		case d.Type().IsRegular():
			set.files[name] = struct{}{}
		case d.Type()&fs.ModeSymlink != 0:
			if fi, err := fsys.Stat(name); err == nil && fi.Mode().IsRegular() {
				set.files[name] = struct{}{}
			}
		}
		return nil
	})
	return set
}
