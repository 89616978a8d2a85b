package caddydjango

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
)

// StaticFiles configures static file serving.
type StaticFiles struct {
	// URL prefix (STATIC_URL). Default: `/static/`.
	URL string `json:"url,omitempty"`

	// Directory (STATIC_ROOT); relative paths are relative to the django
	// app's root (or Caddy's working directory). Default: `static_root`.
	Root string `json:"root,omitempty"`

	// Do not serve static files (requests under the prefix go to Django).
	Disabled bool `json:"disabled,omitempty"`

	// max-age of files that are not hashed. Default: 60s (as WhiteNoise).
	MaxAge caddy.Duration `json:"max_age,omitempty"`

	// max-age of hashed files (sent with `public, immutable`). Default: 365 days.
	ImmutableMaxAge caddy.Duration `json:"immutable_max_age,omitempty"`

	// Create missing precompressed sidecars (`gzip` → `.gz`, `zstd` → `.zst`)
	// for compressible files when Caddy starts and after each new
	// collectstatic. A sidecar is kept only if it is at most 95% of the
	// original. Nothing is written during `caddy validate` or `adapt`.
	// Existing `.br`, `.zst` and `.gz` files are always served. Default: none.
	Compress []string `json:"compress,omitempty"`

	// Serve files through symlinks that leave the static root, as
	// `collectstatic --link` creates. By default, like media, a path may
	// not leave the root, through `..` or any symlink (404). Default: false.
	FollowSymlinks bool `json:"follow_symlinks,omitempty"`

	// Memory, in bytes, for serving hashed files (the manifest's values)
	// from memory with headers computed once: the files and their
	// precompressed sidecars, read in the background at the first static
	// request and again after each collectstatic. Files that do not fit
	// are served from disk. -1 turns the cache off. Default: 32 MiB.
	CacheSize int64 `json:"cache_size,omitempty"`

	// Largest hashed file (and sidecar), in bytes, served from memory.
	// Default: 512 KiB.
	CacheFileSize int64 `json:"cache_file_size,omitempty"`

	// Aliases serve single static files at URL paths outside the static
	// prefix: URL path (`/favicon.ico`) → file, relative to the static root
	// (`images/favicon.ico`; looked up in Also too, and confined the same
	// way). GET and HEAD are served with the static rules (content type,
	// precompressed sidecars, CORS) and the short max_age, never as
	// immutable (the URL stays when the file changes); other methods go to
	// Django. Matched after the static and media prefixes, before
	// root_files. Default: none.
	Aliases map[string]string `json:"aliases,omitempty"`

	// Also are more directories served under the static prefix, searched
	// in order after the static root for a file it does not have; each is
	// confined like the static root (no `..`, dotfiles or symlinks out of
	// it). Relative paths are relative to the django app's root. They
	// get no compress sidecars and no memory cache. Default: none.
	Also []string `json:"also,omitempty"`
	// Finders serves the URL prefix from the directories Django's
	// staticfiles finders look in (each STATICFILES_DIRS entry, then each
	// installed app's static/ folder, in their order), read from the
	// project's settings, as `runserver` does: no collectstatic, and
	// `Cache-Control: no-cache` (development; see files_finders.go). Root,
	// the manifest, compress and the memory cache are not used. Needs the
	// django app. Default: false.
	Finders bool `json:"finders,omitempty"`
}

// staticSite is the provisioned static configuration.
type staticSite struct {
	prefix         string
	dir            string
	srv            *fileserver.FileServer
	manifest       *manifestCache
	cacheShort     string
	cacheImmutable string
	compressor     *filesCompressor
	cache          *staticCache // nil when off
	aliases        map[string]string
	also           []staticDir
	finders        []*finderDir // with finders (then nothing above but prefix)
}

// provisionStatic sets up static file serving unless it is disabled.
func (h *DjangoFiles) provisionStatic(ctx caddy.Context) error {
	s := h.Static
	if s == nil {
		s = new(StaticFiles)
	}
	if s.Disabled {
		return nil
	}
	site, err := h.newStaticSite(ctx, s)
	if err != nil {
		return fmt.Errorf("static: %v", err)
	}
	h.static = site
	return nil
}

// newStaticSite checks s and provisions its file_server (and, with
// compress, registers the root with the compressor app).
func (h *DjangoFiles) newStaticSite(ctx caddy.Context, s *StaticFiles) (*staticSite, error) {
	site := &staticSite{}
	var err error
	if site.prefix, err = normalizePrefix(s.URL, defaultStaticURL); err != nil {
		return nil, err
	}
	if site.dir, err = h.resolveDir("static root", s.Root, "static_root"); err != nil {
		return nil, err
	}
	maxAge := durationOr(s.MaxAge, defaultStaticMaxAge)
	immAge := durationOr(s.ImmutableMaxAge, defaultImmutableMaxAge)
	if maxAge < 0 || immAge < 0 {
		return nil, fmt.Errorf("max ages must not be negative")
	}
	site.cacheShort = publicMaxAge(maxAge)
	site.cacheImmutable = publicMaxAge(immAge) + ", immutable"
	site.manifest = &manifestCache{path: filepath.Join(site.dir, "staticfiles.json")}
	var fsys *rootFS
	if site.srv, fsys, err = h.fileServer(ctx, site.dir, s.FollowSymlinks, true); err != nil {
		return nil, fmt.Errorf("provisioning file_server: %v", err)
	}
	if err := h.provisionStaticExtras(ctx, site, s); err != nil {
		return nil, err
	}
	if len(s.Compress) > 0 {
		encs, err := compressEncodings(s.Compress)
		if err != nil {
			return nil, err
		}
		compIface, err := ctx.App(compressorAppID)
		if err != nil {
			return nil, fmt.Errorf("compressor: %v", err)
		}
		site.compressor = compIface.(*filesCompressor)
		site.compressor.add(site.dir, encs)
	}
	// last: nothing may fail once the cache exists (Cleanup closes it only
	// for a provisioned site)
	if err := h.provisionStaticCache(ctx, site, s, fsys); err != nil {
		return nil, err
	}
	if site.compressor != nil && site.cache != nil {
		site.compressor.onWritten(site.dir, site.cache.invalidate)
	}
	return site, nil
}

// serveStatic serves rel (the request path without the prefix, with a
// leading slash) from s's STATIC_ROOT.
func (h *DjangoFiles) serveStatic(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, s *staticSite, rel string) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowedErr(w, r)
	}
	if !safeRequestPath(rel[1:], r.URL.RawPath) {
		return caddyhttp.Error(http.StatusNotFound, errUnsafePath)
	}
	if s.finders != nil {
		return h.serveFinders(w, r, next, s, rel)
	}
	st, changed := s.manifest.get(time.Now().UnixNano())
	if changed && s.compressor != nil {
		s.compressor.trigger(s.dir)
	}
	if s.cache != nil && s.cache.serve(w, r, rel[1:], st) {
		return nil
	}
	cache := s.cacheShort
	if st.isImmutable(rel[1:]) {
		cache = s.cacheImmutable
	}
	return s.serveFile(w, r, next, rel, cache)
}

// serveFile serves rel from the static root, else from the first `also`
// directory that has it, with the static headers and cache as its
// Cache-Control.
func (s *staticSite) serveFile(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, rel, cache string) error {
	hdr := w.Header()
	hdr["Access-Control-Allow-Origin"] = []string{"*"}
	var err error
	for i := -1; i < len(s.also); i++ {
		srv := s.srv
		if i >= 0 {
			srv = s.also[i].srv
		}
		hdr["Cache-Control"] = []string{cache}
		typed := setContentType(hdr, rel)
		if err = serveRewritten(srv, w, r, next, rel); err == nil {
			return nil
		}
		delete(hdr, "Cache-Control")
		if typed {
			delete(hdr, "Content-Type")
		}
		if herr, ok := errors.AsType[caddyhttp.HandlerError](err); !ok || herr.StatusCode != http.StatusNotFound {
			return err
		}
	}
	return err
}

// provisionStaticCache sets up the memory cache of hashed files over the
// file_server's filesystem (fsys, confined to the root; nil with
// follow_symlinks: the directory as is).
func (h *DjangoFiles) provisionStaticCache(ctx caddy.Context, site *staticSite, s *StaticFiles, fsys *rootFS) error {
	if s.CacheSize < -1 || s.CacheFileSize < 0 {
		return fmt.Errorf("cache sizes must not be negative (cache_size -1 turns the cache off)")
	}
	if s.CacheSize == -1 {
		return nil
	}
	var files fs.FS = os.DirFS(site.dir)
	if fsys != nil {
		files = fsys
	}
	total, each := s.CacheSize, s.CacheFileSize
	if total == 0 {
		total = defaultStaticCacheSize
	}
	if each == 0 {
		each = defaultStaticCacheFileSize
	}
	if err := registerAll(ctx, staticCacheCollector{}, staticCacheHits); err != nil {
		return err
	}
	site.cache = newStaticCache(site.dir, files, total, each, site.cacheImmutable, h.logger)
	return nil
}

// close releases what the site holds beyond its file_server (the cache).
func (s *staticSite) close() {
	if s.cache != nil {
		s.cache.close()
	}
}
