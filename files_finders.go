package caddydjango

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
	"go.uber.org/zap"
)

// Static files without collectstatic (`static { finders }`, development):
// STATIC_URL is served from the directories Django's staticfiles finders
// look in, in their order, as `runserver` does with DEBUG: each
// STATICFILES_DIRS entry (FileSystemFinder; a (prefix, path) pair under
// STATIC_URL + prefix/), then each installed app's static/ folder
// (AppDirectoriesFinder), in INSTALLED_APPS order. The settings probe reads
// them (settings_probe.py); the first directory that has the file serves
// it. Each directory is confined like STATIC_ROOT (no `..`, no dotfiles,
// no symlink out of it unless follow_symlinks), and nothing is cached for
// long: `Cache-Control: no-cache` (a saved file is fetched again, an
// unchanged one is a 304).
//
// It is not turned on by DEBUG alone: a DEBUG left on in production would
// then serve the sources, not what collectstatic built (and hide a missing
// collectstatic until the day DEBUG is fixed). When STATIC_ROOT does not
// exist, the log says how to turn it on.

// fromFinders is the DirFrom of static files served from the finders.
const fromFinders = "finders"

// finderCacheControl: revalidate every time (ETag, Last-Modified).
const finderCacheControl = "no-cache"

// StaticFinders is where the project's staticfiles finders look, as the
// settings probe reads them.
type StaticFinders struct {
	// Dirs are the directories, in the finders' order.
	Dirs []FinderDir `json:"dirs"`
	// Unsupported are STATICFILES_FINDERS entries other than
	// FileSystemFinder and AppDirectoriesFinder (their files are not
	// served).
	Unsupported []string `json:"unsupported,omitempty"`
	// Errors are the entries that could not be read (an app whose
	// directory cannot be found), with why.
	Errors []string `json:"errors,omitempty"`
}

// FinderDir is one directory a staticfiles finder looks in.
type FinderDir struct {
	// Prefix is the path under STATIC_URL it serves (a STATICFILES_DIRS
	// (prefix, path) pair), "" for the top.
	Prefix string `json:"prefix,omitempty"`
	// Dir is the directory (absolute).
	Dir string `json:"dir"`
	// From is STATICFILES_DIRS or the installed app's name.
	From string `json:"from"`
	// Missing: the directory does not exist (yet); it is served once it
	// does.
	Missing bool `json:"missing,omitempty"`
}

// finderDir is a finder directory served.
type finderDir struct {
	prefix string // "" or "vendor/" (with its slash)
	files  fs.StatFS
	srv    *fileserver.FileServer
}

// finderPaths is the static FilesPaths when finders are on: the URL prefix
// as for STATIC_ROOT (the Caddyfile's, else STATIC_URL, else /static/), and
// the finders' directories from the settings instead of a directory.
func (h *DjangoFiles) finderPaths(set *DjangoSettings) *FilesPaths {
	s := h.staticOptions()
	var sURL string
	if set != nil {
		sURL = set.StaticURL
	}
	p := &FilesPaths{Served: true, DirFrom: fromFinders}
	p.URL, p.URLFrom = pick(s.URL, sURL, defaultStaticURL, set != nil)
	switch {
	case set == nil || set.Finders == nil:
		p.Served, p.Reason = false, "finders: the project's settings could not be read"
	case p.URL == "":
		p.Served, p.Reason = false, "STATIC_URL is not set"
	case isAbsoluteURL(p.URL):
		p.Served, p.Reason = false, "STATIC_URL is absolute: served elsewhere"
	default:
		u, err := normalizePrefix(p.URL, "")
		if err != nil {
			p.Served, p.Reason = false, err.Error()
		}
		p.URL, p.Finders = u, set.Finders.Dirs
		for _, f := range set.Finders.Unsupported {
			h.logger.Warn("static finders: this finder is not supported; its files are not served", zap.String("finder", f))
		}
		for _, e := range set.Finders.Errors {
			h.logger.Warn("static finders: an entry could not be read; its files are not served", zap.String("error", e))
		}
	}
	return p
}

// newFinderSite provisions a static site that serves p's finder
// directories.
func (h *DjangoFiles) newFinderSite(ctx caddy.Context, p *FilesPaths) (*staticSite, error) {
	follow := h.staticOptions().FollowSymlinks
	site := &staticSite{prefix: p.URL, finders: []*finderDir{}}
	for _, f := range p.Finders {
		srv, fsys, err := h.fileServer(ctx, f.Dir, follow, false)
		if err != nil {
			return nil, err
		}
		d := &finderDir{srv: srv, files: fsys}
		if fsys == nil { // follow_symlinks
			d.files = os.DirFS(f.Dir).(fs.StatFS)
		}
		if f.Prefix != "" {
			d.prefix = strings.Trim(f.Prefix, "/") + "/"
		}
		site.finders = append(site.finders, d)
	}
	return site, nil
}

// serveFinders serves rel (with a leading slash; its path checked by
// serveStatic) from the first finder directory that has it.
func (h *DjangoFiles) serveFinders(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, s *staticSite, rel string) error {
	name := rel[1:]
	for _, d := range s.finders {
		sub, ok := strings.CutPrefix(name, d.prefix)
		if !ok || sub == "" {
			continue
		}
		if fi, err := d.files.Stat(sub); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		hdr := w.Header()
		hdr["Cache-Control"] = []string{finderCacheControl}
		hdr["Access-Control-Allow-Origin"] = []string{"*"}
		typed := setContentType(hdr, sub)
		err := serveRewritten(d.srv, w, r, next, "/"+sub)
		if err != nil {
			delete(hdr, "Cache-Control")
			if typed {
				delete(hdr, "Content-Type")
			}
		}
		return err
	}
	return caddyhttp.Error(http.StatusNotFound, errNotInFinders)
}

var errNotInFinders = errors.New("no finder directory has this file")

// hintFinders logs, when STATIC_ROOT (p) does not exist, that collectstatic
// has not run, and how to serve the sources in development.
func (h *DjangoFiles) hintFinders(p *FilesPaths) {
	if p == nil || !p.Served || p.DirFrom == fromFinders {
		return
	}
	if _, err := os.Stat(p.Dir); errors.Is(err, fs.ErrNotExist) {
		h.logger.Warn("the static root does not exist: run collectstatic, or, in development, serve the finders' directories (static { finders })",
			zap.String("static_root", p.Dir))
	}
}

// finderRows are the finder directories that exist, for the files table.
func finderRows(p *FilesPaths) []FinderDir {
	var out []FinderDir
	for _, f := range p.Finders {
		if !f.Missing {
			f.Prefix = path.Join(p.URL, f.Prefix) + "/"
			out = append(out, f)
		}
	}
	return out
}
