package caddydjango

import (
	"fmt"
	"net/http"
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
	if site.srv, _, err = h.fileServer(ctx, site.dir, s.FollowSymlinks, true); err != nil {
		return nil, fmt.Errorf("provisioning file_server: %v", err)
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
	st, changed := s.manifest.get(time.Now().UnixNano())
	if changed && s.compressor != nil {
		s.compressor.trigger(s.dir)
	}
	hdr := w.Header()
	if st.isImmutable(rel[1:]) {
		hdr["Cache-Control"] = []string{s.cacheImmutable}
	} else {
		hdr["Cache-Control"] = []string{s.cacheShort}
	}
	hdr["Access-Control-Allow-Origin"] = []string{"*"}
	typed := setContentType(hdr, rel)

	err := serveRewritten(s.srv, w, r, next, rel)
	if err != nil {
		delete(hdr, "Cache-Control")
		if typed {
			delete(hdr, "Content-Type")
		}
	}
	return err
}
