package caddydjango

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"github.com/klauspost/compress/zstd"
	"go.uber.org/zap"

	// precompressed sidecar modules used by the static file server
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/encode/brotli"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/encode/gzip"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/encode/zstd"
)

func init() {
	caddy.RegisterModule(DjangoFiles{})
	caddy.RegisterModule(new(filesCompressor))
}

// DjangoFiles is the `django_files` HTTP handler: everything a Django site
// needs from its web server, in one terminal handler.
//
//   - Requests under the static URL prefix are served from STATIC_ROOT by
//     Caddy's file_server: files that Django's ManifestStaticFilesStorage
//     hashed (the values of `staticfiles.json`, re-read when it changes; without
//     a manifest, names with a `.` + 12 hex digits + `.` segment before the
//     extension) are cached for a year as `immutable`, others for a short
//     max-age with ETag/Last-Modified revalidation. Precompressed `.br`,
//     `.zst` and `.gz` sidecars are served when the client accepts them.
//     Only GET and HEAD are allowed; a missing file is a 404 from Caddy and
//     never reaches Django; directories are never listed.
//   - Requests under the media URL prefix are served from MEDIA_ROOT (user
//     uploads) so that no uploaded file can run script on the site's origin:
//     `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`
//     on every response, `Content-Disposition: attachment` for every type
//     that is not a plain image, audio, video, font, PDF or text file. Dotfiles,
//     directories and symlinks leaving the media root are 404.
//   - Everything else is proxied to Gunicorn with Caddy's reverse_proxy. Request
//     bodies are read completely (in memory, then in a temporary file) before
//     Gunicorn is contacted, so slow clients cannot hold Gunicorn's sync
//     workers; bodies over `max_body` are refused with 413. While Gunicorn is
//     (re)starting, requests wait up to `wait_timeout`, then get 503 with
//     Retry-After.
//   - When Django answers with `X-Accel-Redirect` (nginx style: a URL path under
//     `accel_prefix`) or `X-Sendfile` (an absolute path), the file is sent from
//     the protected root instead of Django's body, keeping Django's
//     Content-Type, Content-Disposition, Cache-Control, cookies and other
//     headers; the X-Accel-Redirect / X-Sendfile header never reaches the client.
//     Targets outside the protected root, dotfiles and escaping symlinks are 404.
//     The protected root has no public URL.
//
// Defaults come from the `django` app when it is configured (its root and its
// Gunicorn's address); without it, set `upstream`.
type DjangoFiles struct {
	// Static files (collectstatic's STATIC_ROOT). Default: URL prefix
	// `/static/`, directory `<root>/static_root`.
	Static *StaticFiles `json:"static,omitempty"`

	// User uploads (MEDIA_ROOT). Default: URL prefix `/media/`, directory
	// `<root>/media_root`.
	Media *MediaFiles `json:"media,omitempty"`

	// Files sent only when Django answers with X-Accel-Redirect or
	// X-Sendfile. Default: none; such responses are then 404 (the header is
	// never passed on).
	Protected *ProtectedFiles `json:"protected,omitempty"`

	// The address of Gunicorn: `host:port` or `unix//path/to/socket`.
	// Default: the `gunicorn` bind of the `django` app.
	Upstream string `json:"upstream,omitempty"`

	// Largest request body accepted, in bytes. Larger requests get 413
	// and never reach Gunicorn. Default: 100 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// Request bodies up to this many bytes are buffered in memory; larger
	// ones (up to max_body) are spooled to a temporary file. Either way the
	// whole body is read before Gunicorn is contacted. Default: 1 MiB.
	RequestBuffer int64 `json:"request_buffer,omitempty"`

	// Directory for spooled request bodies. Default: the system's
	// temporary directory.
	BufferDir string `json:"buffer_dir,omitempty"`

	// IP ranges (CIDR or single addresses) of proxies in front of Caddy
	// whose X-Forwarded-For/Proto/Host and X-Real-IP values are kept (the
	// server's own `trusted_proxies` are trusted too); when such a proxy
	// sends no X-Real-IP, it is set to the right-most X-Forwarded-For
	// address that is not a trusted proxy (or Caddy's client_ip, when the
	// server's trusted_proxies determined it). For other clients
	// Caddy overwrites X-Forwarded-For/Proto/Host, sets X-Real-IP to the
	// client's address and removes Forwarded, X-Forwarded-Port,
	// X-Forwarded-Ssl, X-Forwarded-Scheme, X-Url-Scheme, Front-End-Https,
	// X-Client-IP, Client-IP, X-Cluster-Client-IP and True-Client-IP, so
	// Django's SECURE_PROXY_SSL_HEADER, USE_X_FORWARDED_HOST and
	// USE_X_FORWARDED_PORT cannot be spoofed. Default: none.
	TrustedProxies []string `json:"trusted_proxies,omitempty"`

	// How long a request waits for Gunicorn to become ready (with the
	// django app: until Gunicorn serves; without it: dial retries) before
	// the client gets 503 with Retry-After. Default: 30s.
	WaitTimeout caddy.Duration `json:"wait_timeout,omitempty"`

	// How long an idle connection to Gunicorn is kept for reuse. Default:
	// 0, no reuse. Gunicorn's sync workers close every connection after
	// the response, so there is nothing to reuse; worse, a connection Caddy
	// opened for a request the client then cancelled would sit in the pool
	// while the sync worker that accepted it blocks reading a request that
	// never comes (until Gunicorn's 30 s worker timeout kills it). Set it
	// for gthread or async workers, below Gunicorn's --keep-alive (2 s).
	UpstreamKeepAlive caddy.Duration `json:"upstream_keepalive,omitempty"`

	app       *App
	logger    *zap.Logger
	static    *staticSite
	media     *mediaSite
	protected *protectedSite
	proxy     *reverseproxy.Handler
	fsKeys    []string
	fsmap     caddy.FileSystems
	roots     []*rootFS
	waitApp   bool

	trustedProxies []netip.Prefix
}

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

// MediaFiles configures serving of user uploads.
type MediaFiles struct {
	// URL prefix (MEDIA_URL). Default: `/media/`.
	URL string `json:"url,omitempty"`

	// Directory (MEDIA_ROOT); relative paths are relative to the django
	// app's root (or Caddy's working directory). Default: `media_root`.
	Root string `json:"root,omitempty"`

	// Do not serve media (requests under the prefix go to Django).
	Disabled bool `json:"disabled,omitempty"`

	// max-age of media files. Default: 1 day.
	MaxAge caddy.Duration `json:"max_age,omitempty"`
}

// ProtectedFiles configures X-Accel-Redirect / X-Sendfile downloads.
type ProtectedFiles struct {
	// Directory the files are sent from. It has no public URL and must not
	// lie inside the static or media root. Required.
	Root string `json:"root,omitempty"`

	// URL prefix of X-Accel-Redirect values (django-sendfile2's
	// SENDFILE_URL); it is stripped and the rest is URL-decoded and looked
	// up under root. Default: `/protected/`.
	AccelPrefix string `json:"accel_prefix,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (DjangoFiles) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.django_files",
		New: func() caddy.Module { return new(DjangoFiles) },
	}
}

const (
	defaultStaticURL       = "/static/"
	defaultMediaURL        = "/media/"
	defaultAccelPrefix     = "/protected/"
	defaultStaticMaxAge    = 60 * time.Second
	defaultImmutableMaxAge = 365 * 24 * time.Hour
	defaultMediaMaxAge     = 24 * time.Hour
	defaultMaxBody         = 100 << 20
	defaultRequestBuffer   = 1 << 20
	defaultWaitTimeout     = 30 * time.Second
	retryAfterSeconds      = "5"
	unavailableBody        = "503 Service Unavailable: the application is unavailable right now. Please try again in a moment.\n"
)

// fsKeySeq makes the names of the filesystems registered per config unique.
var fsKeySeq atomic.Uint64

// Provision sets up the handler and its file_server and reverse_proxy
// sub-handlers. It writes and starts nothing.
func (h *DjangoFiles) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()

	appIface, err := ctx.AppIfConfigured("django")
	switch {
	case err == nil:
		app, ok := appIface.(*App)
		if !ok {
			return fmt.Errorf("django app has unexpected type %T", appIface)
		}
		h.app = app
	case errors.Is(err, caddy.ErrNotConfigured):
	default:
		return fmt.Errorf("django app: %v", err)
	}

	root := ""
	if h.app != nil {
		root = h.app.RootDir()
	}
	if root == "" {
		if root, err = os.Getwd(); err != nil {
			return err
		}
	}
	resolve := func(field, p, def string) (string, error) {
		p, err := expandPlaceholders(field, p)
		if err != nil {
			return "", err
		}
		if p == "" {
			p = def
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		return filepath.Abs(p)
	}

	if h.MaxBody == 0 {
		h.MaxBody = defaultMaxBody
	}
	if h.MaxBody < 0 {
		return fmt.Errorf("max_body must be positive, got %d", h.MaxBody)
	}
	if h.RequestBuffer == 0 {
		h.RequestBuffer = defaultRequestBuffer
	}
	if h.RequestBuffer < 0 {
		return fmt.Errorf("request_buffer must be positive, got %d", h.RequestBuffer)
	}
	if h.WaitTimeout == 0 {
		h.WaitTimeout = caddy.Duration(defaultWaitTimeout)
	}
	if h.WaitTimeout < 0 {
		return fmt.Errorf("wait_timeout must be positive, got %s", time.Duration(h.WaitTimeout))
	}
	if h.BufferDir != "" {
		if h.BufferDir, err = expandPlaceholders("buffer_dir", h.BufferDir); err != nil {
			return err
		}
	}
	h.fsmap = ctx.FileSystems()
	for _, str := range h.TrustedProxies {
		if strings.Contains(str, "/") {
			p, err := netip.ParsePrefix(str)
			if err != nil {
				return fmt.Errorf("trusted_proxies: %q is not an IP range: %v", str, err)
			}
			h.trustedProxies = append(h.trustedProxies, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(str)
		if err != nil {
			return fmt.Errorf("trusted_proxies: %q is not an IP address: %v", str, err)
		}
		h.trustedProxies = append(h.trustedProxies, netip.PrefixFrom(ip, ip.BitLen()))
	}

	// static
	if h.Static == nil || !h.Static.Disabled {
		s := h.Static
		if s == nil {
			s = new(StaticFiles)
		}
		site := &staticSite{}
		if site.prefix, err = normalizePrefix(s.URL, defaultStaticURL); err != nil {
			return fmt.Errorf("static: %v", err)
		}
		if site.dir, err = resolve("static root", s.Root, "static_root"); err != nil {
			return fmt.Errorf("static: %v", err)
		}
		maxAge := durationOr(s.MaxAge, defaultStaticMaxAge)
		immAge := durationOr(s.ImmutableMaxAge, defaultImmutableMaxAge)
		if maxAge < 0 || immAge < 0 {
			return fmt.Errorf("static: max ages must not be negative")
		}
		site.cacheShort = publicMaxAge(maxAge)
		site.cacheImmutable = publicMaxAge(immAge) + ", immutable"
		site.manifest = &manifestCache{path: filepath.Join(site.dir, "staticfiles.json")}
		if site.srv, _, err = h.fileServer(ctx, site.dir, s.FollowSymlinks, true); err != nil {
			return fmt.Errorf("static: provisioning file_server: %v", err)
		}
		if len(s.Compress) > 0 {
			encs, err := compressEncodings(s.Compress)
			if err != nil {
				return fmt.Errorf("static: %v", err)
			}
			compIface, err := ctx.App(compressorAppID)
			if err != nil {
				return fmt.Errorf("static: compressor: %v", err)
			}
			site.compressor = compIface.(*filesCompressor)
			site.compressor.add(site.dir, encs)
		}
		h.static = site
	}

	// media
	if h.Media == nil || !h.Media.Disabled {
		m := h.Media
		if m == nil {
			m = new(MediaFiles)
		}
		site := &mediaSite{}
		if site.prefix, err = normalizePrefix(m.URL, defaultMediaURL); err != nil {
			return fmt.Errorf("media: %v", err)
		}
		if site.dir, err = resolve("media root", m.Root, "media_root"); err != nil {
			return fmt.Errorf("media: %v", err)
		}
		maxAge := durationOr(m.MaxAge, defaultMediaMaxAge)
		if maxAge < 0 {
			return fmt.Errorf("media: max_age must not be negative")
		}
		site.cache = publicMaxAge(maxAge)
		if site.srv, _, err = h.fileServer(ctx, site.dir, false, false); err != nil {
			return fmt.Errorf("media: provisioning file_server: %v", err)
		}
		h.media = site
	}
	if h.static != nil && h.media != nil {
		if h.static.prefix == h.media.prefix {
			return fmt.Errorf("static and media use the same URL prefix %s", h.static.prefix)
		}
		if h.static.dir == h.media.dir {
			return fmt.Errorf("static and media use the same directory %s", h.static.dir)
		}
	}

	// protected
	if h.Protected != nil {
		p := &protectedSite{}
		if strings.TrimSpace(h.Protected.Root) == "" {
			return fmt.Errorf("protected: root is required")
		}
		if p.dir, err = resolve("protected root", h.Protected.Root, ""); err != nil {
			return fmt.Errorf("protected: %v", err)
		}
		if p.prefix, err = normalizePrefix(h.Protected.AccelPrefix, defaultAccelPrefix); err != nil {
			return fmt.Errorf("protected: accel_prefix: %v", err)
		}
		if real, err := filepath.EvalSymlinks(p.dir); err == nil && real != p.dir {
			p.realDir = real
		}
		for _, pub := range []struct{ name, dir string }{{"static", dirOf(h.static)}, {"media", dirOf(h.media)}} {
			if pub.dir != "" && (within(pub.dir, p.dir) || within(p.dir, pub.dir)) {
				return fmt.Errorf("protected root %s overlaps the %s root %s: protected files must not have a public URL", p.dir, pub.name, pub.dir)
			}
		}
		if p.srv, p.fs, err = h.fileServer(ctx, p.dir, false, false); err != nil {
			return fmt.Errorf("protected: provisioning file_server: %v", err)
		}
		h.protected = p
	}

	// proxy
	upstream, err := expandPlaceholders("upstream", h.Upstream)
	if err != nil {
		return err
	}
	if upstream == "" && h.app != nil {
		upstream = h.app.GunicornUpstream()
	}
	if upstream == "" {
		return fmt.Errorf("no upstream: set `upstream` or configure gunicorn in the django app")
	}
	h.waitApp = h.app != nil && upstream == h.app.GunicornUpstream()

	accel, sendfile := &protectedHandler{h: h}, &protectedHandler{h: h, sendfile: true}
	for _, ph := range []*protectedHandler{accel, sendfile} {
		ph.collect = &reverseproxy.CopyResponseHeadersHandler{Exclude: protectedDroppedHeaders}
		if err := ph.collect.Provision(ctx); err != nil {
			return err
		}
	}
	if h.UpstreamKeepAlive < 0 {
		return fmt.Errorf("upstream_keepalive must not be negative")
	}
	transport := fmt.Sprintf(`{"protocol":"http","keep_alive":{"enabled":%t,"idle_timeout":%d}}`,
		h.UpstreamKeepAlive > 0, int64(h.UpstreamKeepAlive))
	h.proxy = &reverseproxy.Handler{
		TransportRaw:   json.RawMessage(transport),
		Upstreams:      reverseproxy.UpstreamPool{{Dial: upstream}},
		TrustedProxies: h.TrustedProxies,
		// upgraded streams survive reloads (reload_streams.go)
		StreamCloseDelay: streamsOutliveReloads,
		LoadBalancing: &reverseproxy.LoadBalancing{
			TryDuration: h.WaitTimeout,
			TryInterval: caddy.Duration(250 * time.Millisecond),
		},
		HandleResponse: []caddyhttp.ResponseHandler{
			{
				Match:  &caddyhttp.ResponseMatcher{Headers: http.Header{"X-Accel-Redirect": {}}},
				Routes: caddyhttp.RouteList{{Handlers: []caddyhttp.MiddlewareHandler{accel}}},
			},
			{
				Match:  &caddyhttp.ResponseMatcher{Headers: http.Header{"X-Sendfile": {}}},
				Routes: caddyhttp.RouteList{{Handlers: []caddyhttp.MiddlewareHandler{sendfile}}},
			},
		},
	}
	if err := h.proxy.Provision(ctx); err != nil {
		return fmt.Errorf("provisioning reverse_proxy: %v", err)
	}
	return nil
}

// protectedDroppedHeaders are the upstream response fields that describe
// Django's (empty) body, instruct the web server or belong to the upstream
// connection; the rest of Django's headers (Content-Type,
// Content-Disposition, Cache-Control, Set-Cookie, Vary, security headers...)
// are kept on X-Accel-Redirect / X-Sendfile responses.
var protectedDroppedHeaders = []string{
	"X-Accel-Redirect", "X-Accel-Buffering", "X-Accel-Charset", "X-Accel-Expires", "X-Accel-Limit-Rate",
	"X-Sendfile", "Content-Length", "Content-Encoding", "Content-Range", "Accept-Ranges",
	"Etag", "Last-Modified", "Transfer-Encoding", "Trailer", "Server", "Date",
}

// fileServer provisions a Caddy file_server for dir. Unless follow is set,
// its filesystem is confined to dir (the rootFS is returned for direct use:
// symlinks may not leave it); precompressed serves .br, .zst and .gz
// sidecars.
func (h *DjangoFiles) fileServer(ctx caddy.Context, dir string, follow, precompressed bool) (*fileserver.FileServer, *rootFS, error) {
	no := false
	srv := &fileserver.FileServer{FileSystem: "default", Root: dir, IndexNames: []string{}, CanonicalURIs: &no}
	var fsys *rootFS
	if !follow {
		fsys = &rootFS{dir: dir}
		srv.FileSystem, srv.Root = h.registerRootFS(fsys), "."
	}
	if precompressed {
		srv.PrecompressedRaw = caddy.ModuleMap{"br": json.RawMessage("{}"), "zstd": json.RawMessage("{}"), "gzip": json.RawMessage("{}")}
		srv.PrecompressedOrder = []string{"br", "zstd", "gzip"}
	}
	return srv, fsys, srv.Provision(ctx)
}

// publicMaxAge is the Cache-Control value for a lifetime.
func publicMaxAge(d time.Duration) string {
	return "public, max-age=" + strconv.FormatInt(int64(d/time.Second), 10)
}

// registerRootFS makes fsys a named Caddy filesystem for a file_server and
// returns its name.
func (h *DjangoFiles) registerRootFS(fsys *rootFS) string {
	key := "django_files_" + strconv.FormatUint(fsKeySeq.Add(1), 10)
	h.fsmap.Register(key, fsys)
	h.fsKeys = append(h.fsKeys, key)
	h.roots = append(h.roots, fsys)
	return key
}

// Cleanup releases the sub-handlers and open directories.
func (h *DjangoFiles) Cleanup() error {
	var err error
	if h.proxy != nil {
		err = h.proxy.Cleanup()
	}
	for _, k := range h.fsKeys {
		if h.fsmap != nil {
			h.fsmap.Unregister(k)
		}
	}
	for _, r := range h.roots {
		r.close()
	}
	return err
}

func (h *DjangoFiles) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	p := r.URL.Path
	if s := h.static; s != nil && strings.HasPrefix(p, s.prefix) {
		return h.serveStatic(w, r, next, p[len(s.prefix)-1:])
	}
	if m := h.media; m != nil && strings.HasPrefix(p, m.prefix) {
		return h.serveMedia(w, r, next, p[len(m.prefix)-1:])
	}
	return h.serveProxy(w, r, next)
}

// ---------------------------------------------------------------- static

type staticSite struct {
	prefix         string
	dir            string
	srv            *fileserver.FileServer
	manifest       *manifestCache
	cacheShort     string
	cacheImmutable string
	compressor     *filesCompressor
}

// Header values are set as fresh one-element slices: a shared slice could be
// modified in place by a later handler (e.g. `header` replacements).

func methodNotAllowedErr(w http.ResponseWriter, r *http.Request) error {
	w.Header()["Allow"] = []string{"GET, HEAD"}
	return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed for files", r.Method))
}

// serveStatic serves rel (the request path without the prefix, with a
// leading slash) from STATIC_ROOT.
func (h *DjangoFiles) serveStatic(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, rel string) error {
	s := h.static
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

// serveRewritten runs srv with the request path set to p, restoring the
// request afterwards.
func serveRewritten(srv *fileserver.FileServer, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, p string) error {
	origPath, origRaw := r.URL.Path, r.URL.RawPath
	r.URL.Path, r.URL.RawPath = p, ""
	err := srv.ServeHTTP(&sendfileWriter{caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}, r, next)
	r.URL.Path, r.URL.RawPath = origPath, origRaw
	return err
}

// sendfileWriter lets file bodies go out with sendfile(2) again. Caddy
// 2.11 wraps every response in caddyhttp.IdleTimeoutWriter (on by default:
// write_idle_timeout), whose ReadFrom hands net/http an io.LimitedReader of
// the io.LimitedReader that http.ServeContent passes; the net package's
// sendfile unwraps only one, so every byte of every file was copied through
// user space with a fresh 32 KiB buffer. When the copy runs to the end of a
// regular file, the *os.File itself goes down instead: the idle-timeout
// wrapper limits it to its chunk and sendfile applies. net/http closes the
// connection rather than reuse it should the file have grown meanwhile
// (more written than the Content-Length).
type sendfileWriter struct {
	caddyhttp.ResponseWriterWrapper
}

// ReadFrom implements io.ReaderFrom.
func (w *sendfileWriter) ReadFrom(r io.Reader) (int64, error) {
	// up to 512 bytes net/http copies itself, with the header (sniffLen)
	if lr, ok := r.(*io.LimitedReader); ok && lr.N > 512 {
		if f, ok := lr.R.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				if off, err := f.Seek(0, io.SeekCurrent); err == nil && fi.Size()-off == lr.N {
					n, err := w.ResponseWriterWrapper.ReadFrom(f)
					lr.N -= n
					return n, err
				}
			}
		}
	}
	return w.ResponseWriterWrapper.ReadFrom(r)
}

var errUnsafePath = errors.New("unsafe or hidden path")

// safeRequestPath reports whether rel (a decoded request path relative to a
// file root, without leading slash) is plain: no empty, `.` or `..`
// segments, no dotfiles, no backslashes or NULs, and rawPath (the escaped
// form, when it differs) has no encoded slash, backslash or NUL.
func safeRequestPath(rel, rawPath string) bool {
	if rawPath != "" && containsFoldAny(rawPath, "%2f", "%5c", "%00") {
		return false
	}
	return safeRelName(rel)
}

// safeRelName reports whether name is a clean slash-separated relative
// path with no hidden (dot) segments.
func safeRelName(name string) bool {
	if name == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) {
			c := name[i]
			if c == 0 || c == '\\' {
				return false
			}
			if c != '/' {
				continue
			}
		}
		seg := name[start:i]
		// empty segment (//, leading or trailing slash), ".", "..",
		// and dotfiles/dot-directories are refused
		if seg == "" {
			// a single trailing slash (directory URL) is allowed; the file
			// server answers 404 for directories
			if i == len(name) && i > 0 && start > 0 {
				return true
			}
			return false
		}
		if seg[0] == '.' {
			return false
		}
		start = i + 1
	}
	return true
}

func containsFoldAny(s string, subs ...string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i] != '%' {
			continue
		}
		for _, sub := range subs {
			if strings.EqualFold(s[i:i+3], sub) {
				return true
			}
		}
	}
	return false
}

// manifestCache holds the immutable names from STATIC_ROOT/staticfiles.json,
// re-checked (one stat) at most once per second.
type manifestCache struct {
	path      string
	nextCheck atomic.Int64
	cur       atomic.Pointer[manifestState]
	mu        sync.Mutex
}

type manifestState struct {
	present bool
	modTime time.Time
	size    int64
	hashed  map[string]struct{} // the manifest's values: css/app.554a67f51a76.css
	// its keys, the names Django hashes (css/app.css): an earlier
	// collectstatic's hashed version of one of them, still on disk after a
	// deploy, is as immutable as the current one
	originals map[string]struct{}
}

var noManifest = &manifestState{}

// get returns the current manifest state and whether it changed with this
// call (a newly read manifest).
func (m *manifestCache) get(now int64) (*manifestState, bool) {
	st := m.cur.Load()
	if st != nil && now < m.nextCheck.Load() {
		return st, false
	}
	if st != nil && !m.mu.TryLock() {
		return st, false // another request is checking
	}
	if st == nil {
		m.mu.Lock()
		if st = m.cur.Load(); st != nil {
			m.mu.Unlock()
			return st, false
		}
	}
	defer m.mu.Unlock()
	m.nextCheck.Store(now + int64(time.Second))
	old := st
	st = m.refresh(old)
	if st != old {
		m.cur.Store(st)
		return st, old != nil
	}
	return st, false
}

func (m *manifestCache) refresh(old *manifestState) *manifestState {
	fi, err := os.Stat(m.path)
	if err != nil {
		if old != nil && !old.present {
			return old
		}
		return noManifest
	}
	if old != nil && old.present && fi.ModTime().Equal(old.modTime) && fi.Size() == old.size {
		return old
	}
	data, err := os.ReadFile(m.path)
	if err != nil {
		if old != nil {
			return old
		}
		return noManifest
	}
	st, err := parseManifest(data)
	if err != nil {
		// probably being written by collectstatic: keep what we have and
		// look again next time
		m.nextCheck.Store(0)
		if old != nil {
			return old
		}
		return noManifest
	}
	st.modTime, st.size = fi.ModTime(), fi.Size()
	return st
}

// parseManifest reads a ManifestStaticFilesStorage manifest: the hashed
// names (the values of "paths") and the names they were hashed from (its
// keys).
func parseManifest(data []byte) (*manifestState, error) {
	var m struct {
		Paths map[string]string `json:"paths"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Paths == nil {
		return nil, errors.New(`manifest has no "paths"`)
	}
	st := &manifestState{
		present:   true,
		hashed:    make(map[string]struct{}, len(m.Paths)),
		originals: make(map[string]struct{}, len(m.Paths)),
	}
	for k, v := range m.Paths {
		st.hashed[strings.TrimPrefix(v, "/")] = struct{}{}
		st.originals[strings.TrimPrefix(k, "/")] = struct{}{}
	}
	return st, nil
}

// isImmutable reports whether the static file rel is a hashed name: one in
// the manifest, or an earlier collectstatic's hash of a name the manifest
// has (css/app.111111111111.css when it maps css/app.css); without a
// manifest, any name with a hash segment.
func (st *manifestState) isImmutable(rel string) bool {
	if !st.present {
		return hasHashInName(rel)
	}
	if _, ok := st.hashed[rel]; ok {
		return true
	}
	if !hasHashInName(rel) {
		return false
	}
	dot := strings.LastIndexByte(rel, '.')
	_, ok := st.originals[rel[:dot-13]+rel[dot:]]
	return ok
}

// hasHashInName reports whether the file name has Django's hash segment: a
// `.`, 12 lowercase hex digits and a `.` before the extension
// (app.554a67f51a76.css).
func hasHashInName(p string) bool {
	name := p[strings.LastIndexByte(p, '/')+1:]
	dot := strings.LastIndexByte(name, '.')
	if dot < 14 || dot == len(name)-1 {
		return false
	}
	if name[dot-13] != '.' {
		return false
	}
	for i := dot - 12; i < dot; i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- media

type mediaSite struct {
	prefix string
	dir    string
	srv    *fileserver.FileServer
	cache  string
}

// inlineMediaExt lists the upload types a browser may display inline: they
// cannot run script. Everything else (HTML, SVG, XML, XHTML, JavaScript,
// unknown types...) is sent as an attachment.
var inlineMediaExt = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".avif": true,
	".bmp": true, ".ico": true, ".apng": true,
	".mp3": true, ".ogg": true, ".oga": true, ".wav": true, ".flac": true, ".m4a": true,
	".aac": true, ".opus": true, ".weba": true,
	".mp4": true, ".m4v": true, ".webm": true, ".ogv": true, ".mov": true,
	".txt": true, ".csv": true, ".pdf": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true,
}

func isInlineMedia(name string) bool {
	ext := filepath.Ext(name)
	if inlineMediaExt[ext] {
		return true
	}
	return inlineMediaExt[strings.ToLower(ext)]
}

func (h *DjangoFiles) serveMedia(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, rel string) error {
	m := h.media
	hdr := w.Header()
	hdr["X-Content-Type-Options"] = []string{"nosniff"}
	hdr["Content-Security-Policy"] = []string{"sandbox"}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowedErr(w, r)
	}
	if !safeRequestPath(rel[1:], r.URL.RawPath) {
		return caddyhttp.Error(http.StatusNotFound, errUnsafePath)
	}
	hdr["Cache-Control"] = []string{m.cache}
	if !isInlineMedia(rel) {
		hdr["Content-Disposition"] = []string{"attachment"}
	}
	typed := setContentType(hdr, rel)
	err := serveRewritten(m.srv, w, r, next, rel)
	if err != nil {
		delete(hdr, "Cache-Control")
		delete(hdr, "Content-Disposition")
		if typed {
			delete(hdr, "Content-Type")
		}
	}
	return err
}

// ---------------------------------------------------------------- protected

type protectedSite struct {
	dir     string
	realDir string // dir with symlinks resolved, when different
	prefix  string
	fs      *rootFS
	srv     *fileserver.FileServer
}

// accelTarget maps an X-Accel-Redirect value to a name relative to the
// protected root.
func (p *protectedSite) accelTarget(v string) (string, bool) {
	if i := strings.IndexByte(v, '?'); i >= 0 {
		v = v[:i]
	}
	rest, ok := strings.CutPrefix(v, p.prefix)
	if !ok {
		return "", false
	}
	name, err := url.PathUnescape(rest)
	if err != nil || !safeRelName(name) || strings.HasSuffix(name, "/") {
		return "", false
	}
	return name, true
}

// sendfileTarget maps an X-Sendfile value (an absolute path) to a name
// relative to the protected root.
func (p *protectedSite) sendfileTarget(v string) (string, bool) {
	if v == "" || strings.IndexByte(v, 0) >= 0 || !filepath.IsAbs(v) {
		return "", false
	}
	// refuse `..` anywhere rather than letting Clean fold it away
	for _, seg := range strings.FieldsFunc(filepath.ToSlash(v), func(r rune) bool { return r == '/' }) {
		if seg == ".." {
			return "", false
		}
	}
	v = filepath.Clean(v)
	for _, dir := range []string{p.dir, p.realDir} {
		if dir == "" {
			continue
		}
		rel, err := filepath.Rel(dir, v)
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		name := filepath.ToSlash(rel)
		if safeRelName(name) {
			return name, true
		}
		return "", false
	}
	return "", false
}

// protectedHandler runs in reverse_proxy's handle_response routes when
// Django's response carries X-Accel-Redirect or X-Sendfile.
type protectedHandler struct {
	h        *DjangoFiles
	sendfile bool
	collect  *reverseproxy.CopyResponseHeadersHandler
}

func (ph *protectedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	field, kind := "X-Accel-Redirect", "X-Accel-Redirect"
	if ph.sendfile {
		field, kind = "X-Sendfile", "X-Sendfile"
	}
	p := ph.h.protected
	if p == nil {
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s from upstream, but no protected root is configured", kind))
	}
	val, _ := repl.GetString("http.reverse_proxy.header." + field)
	var name string
	var ok bool
	if ph.sendfile {
		name, ok = p.sendfileTarget(val)
	} else {
		name, ok = p.accelTarget(val)
	}
	if !ok {
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s target %q is not inside the protected root", kind, val))
	}
	fi, err := p.fs.Stat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s target %q: not a file in the protected root", kind, val))
	}

	// collect Django's response headers with copy_response_headers (the
	// only way to reach every value, e.g. several Set-Cookie)
	col := headerCollector{h: make(http.Header)}
	if err := ph.collect.ServeHTTP(&col, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })); err != nil {
		return err
	}
	hdr := w.Header()
	for k, v := range col.h {
		hdr[k] = v
	}
	// Protected files are often user uploads too, and Django's HttpResponse
	// defaults to text/html: whatever type Django names, the file can never
	// run script on the site's origin (an added CSP is enforced alongside any
	// policy Django set).
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Add("Content-Security-Policy", "sandbox")
	// Django's Content-Type is kept; a response without one gets the table's
	typed := setContentType(hdr, name)

	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	r2.URL = &u
	if r2.Method != http.MethodHead {
		// as nginx: the file is fetched with GET whatever Django answered
		r2.Method = http.MethodGet
	}
	err = serveRewritten(p.srv, w, r2, next, "/"+name)
	if err != nil {
		for k := range col.h {
			delete(hdr, k)
		}
		delete(hdr, "X-Content-Type-Options")
		delete(hdr, "Content-Security-Policy")
		if typed {
			delete(hdr, "Content-Type")
		}
	}
	return err
}

type headerCollector struct{ h http.Header }

func (c *headerCollector) Header() http.Header         { return c.h }
func (c *headerCollector) Write(b []byte) (int, error) { return len(b), nil }
func (c *headerCollector) WriteHeader(int)             {}

// ---------------------------------------------------------------- proxy

// forwardingHeaders are request fields that apps (Django settings such as
// SECURE_PROXY_SSL_HEADER or USE_X_FORWARDED_PORT, django-ipware...) may
// read as set by a proxy. reverse_proxy rewrites X-Forwarded-For/Proto/Host;
// these others are removed when the client is not a trusted proxy.
var forwardingHeaders = []string{
	"Forwarded", "X-Forwarded-Port", "X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Url-Scheme",
	"Front-End-Https", "X-Client-Ip", "Client-Ip", "X-Cluster-Client-Ip", "True-Client-Ip",
}

// sanitizeForwarding drops proxy-set request headers that an untrusted
// client sent, and sets X-Real-IP to the client's address (kept from a
// trusted proxy).
func (h *DjangoFiles) sanitizeForwarding(r *http.Request) {
	trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = ""
	}
	if !trusted && len(h.trustedProxies) > 0 && host != "" {
		if ip, err := netip.ParseAddr(host); err == nil {
			trusted = h.trustedProxy(ip)
		}
	}
	if trusted {
		if _, ok := r.Header["X-Real-Ip"]; !ok && host != "" {
			r.Header["X-Real-Ip"] = []string{h.forwardedClient(r, host)}
		}
		return
	}
	for _, f := range forwardingHeaders {
		delete(r.Header, f)
	}
	if host != "" {
		r.Header["X-Real-Ip"] = []string{host}
	} else {
		delete(r.Header, "X-Real-Ip")
	}
}

// trustedProxy reports whether ip is in this handler's trusted_proxies.
func (h *DjangoFiles) trustedProxy(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range h.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedClient is the client's address as reported by the trusted proxy
// at host that sent no X-Real-IP: Caddy's client_ip when the server's own
// trusted_proxies found it, else the right-most X-Forwarded-For address that
// is not one of this handler's trusted proxies, else the proxy's address.
func (h *DjangoFiles) forwardedClient(r *http.Request, host string) string {
	if ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ip != "" && ip != host {
		return ip
	}
	client := host
	xff := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(xff) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(xff[i]))
		if err != nil {
			break // not an address: nothing left of it is trustworthy
		}
		client = ip.Unmap().String()
		if !h.trustedProxy(ip) {
			break
		}
	}
	return client
}

func (h *DjangoFiles) serveProxy(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	h.sanitizeForwarding(r)
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		body, err := h.bufferBody(w, r)
		if err != nil {
			if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
				h.logger.Debug("request body too large", zap.Int64("limit", mbe.Limit))
				return writeTooLarge(w, h.MaxBody)
			}
			return caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading request body: %w", err))
		}
		defer body.Close()
	}

	if h.waitApp {
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), time.Duration(h.WaitTimeout))
		err := h.app.WaitGunicorn(ctx)
		cancel()
		if err != nil {
			if r.Context().Err() != nil {
				return caddyhttp.Error(499, err)
			}
			// FATAL or stopped: at once; still starting: after wait_timeout
			h.logger.Error("gunicorn cannot serve the request; answered 503",
				zap.Duration("waited", time.Since(start).Round(time.Millisecond)), zap.Error(err))
			return writeUnavailable(w)
		}
	}

	err := h.proxy.ServeHTTP(w, r, next)
	if err != nil {
		if herr, ok := errors.AsType[caddyhttp.HandlerError](err); ok && herr.StatusCode == http.StatusBadGateway {
			if _, ok := errors.AsType[reverseproxy.DialError](herr.Err); ok {
				// could not connect for wait_timeout (lb_try_duration)
				w.Header().Set("Retry-After", retryAfterSeconds)
				herr.StatusCode = http.StatusServiceUnavailable
				return herr
			}
		}
	}
	return err
}

// writeUnavailable answers 503 with Retry-After and a short body that says
// only that the application is unavailable: why (a traceback, an internal
// address) is in the log and in `caddy django status`, never in the body.
func writeUnavailable(w http.ResponseWriter) error {
	hdr := w.Header()
	hdr.Set("Retry-After", retryAfterSeconds)
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, err := io.WriteString(w, unavailableBody)
	return err
}

func writeTooLarge(w http.ResponseWriter, limit int64) error {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, err := fmt.Fprintf(w, "413 Request Entity Too Large: the request body is larger than this site's limit of %s (django_files max_body).\n", formatBytes(limit))
	return err
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// bufferBody reads the whole request body before Gunicorn is contacted (in
// memory up to RequestBuffer bytes, then into an unlinked temporary file)
// and replaces r.Body with it, with an exact Content-Length. It fails with
// *http.MaxBytesError past MaxBody.
func (h *DjangoFiles) bufferBody(w http.ResponseWriter, r *http.Request) (io.Closer, error) {
	if r.ContentLength > h.MaxBody {
		return nil, &http.MaxBytesError{Limit: h.MaxBody}
	}
	src := http.MaxBytesReader(w, r.Body, h.MaxBody)
	var mem []byte
	if r.ContentLength > 0 && r.ContentLength <= h.RequestBuffer {
		mem = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(src, mem); err != nil {
			return nil, err
		}
	} else {
		var buf bytes.Buffer
		if r.ContentLength > 0 {
			buf.Grow(int(min(r.ContentLength, h.RequestBuffer)))
		}
		n, err := buf.ReadFrom(io.LimitReader(src, h.RequestBuffer+1))
		if err != nil {
			return nil, err
		}
		if n > h.RequestBuffer {
			return h.spool(r, buf.Bytes(), src)
		}
		mem = buf.Bytes()
	}
	body := &memBody{Reader: bytes.NewReader(mem)}
	setBody(r, body, int64(len(mem)))
	return body, nil
}

func (h *DjangoFiles) spool(r *http.Request, head []byte, src io.Reader) (io.Closer, error) {
	f, err := os.CreateTemp(h.BufferDir, "caddy-django-body-*")
	if err != nil {
		return nil, err
	}
	body := &fileBody{f: f}
	// unlink at once where the OS allows it, so nothing is left behind
	if os.Remove(f.Name()) == nil {
		body.removed = true
	}
	if _, err := f.Write(head); err != nil {
		body.Close()
		return nil, err
	}
	n, err := io.Copy(f, src)
	if err != nil {
		body.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		body.Close()
		return nil, err
	}
	setBody(r, body, int64(len(head))+n)
	return body, nil
}

func setBody(r *http.Request, body io.ReadCloser, n int64) {
	r.Body = body
	r.ContentLength = n
	r.TransferEncoding = nil
	r.Header["Content-Length"] = []string{strconv.FormatInt(n, 10)}
	if n == 0 {
		r.Body = http.NoBody
	}
}

type memBody struct{ *bytes.Reader }

func (memBody) Close() error { return nil }

type fileBody struct {
	f       *os.File
	once    sync.Once
	removed bool
}

func (b *fileBody) Read(p []byte) (int, error) { return b.f.Read(p) }

func (b *fileBody) Close() error {
	b.once.Do(func() {
		_ = b.f.Close()
		if !b.removed {
			_ = os.Remove(b.f.Name())
		}
	})
	return nil
}

// ---------------------------------------------------------------- helpers

func durationOr(d caddy.Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// normalizePrefix checks a URL prefix and gives it a trailing slash.
func normalizePrefix(p, def string) (string, error) {
	if p == "" {
		return def, nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("URL prefix %q must start with /", p)
	}
	if p == "/" {
		return "", fmt.Errorf("URL prefix must not be / (everything else goes to Django)")
	}
	if strings.ContainsAny(p, "?#*{}\\") || strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") {
		return "", fmt.Errorf("URL prefix %q must be a plain path", p)
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

func dirOf(s interface{ root() string }) string {
	if s == nil {
		return ""
	}
	return s.root()
}

func (s *staticSite) root() string {
	if s == nil {
		return ""
	}
	return s.dir
}

func (m *mediaSite) root() string {
	if m == nil {
		return ""
	}
	return m.dir
}

// within reports whether path lies in (or is) dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*DjangoFiles)(nil)
	_ caddy.CleanerUpper          = (*DjangoFiles)(nil)
	_ caddyhttp.MiddlewareHandler = (*DjangoFiles)(nil)
	_ caddyhttp.MiddlewareHandler = (*protectedHandler)(nil)
)

// ---------------------------------------------------------------- compression

const compressorAppID = "django_files_compressor"

// filesCompressor is a small Caddy app, instantiated by django_files
// handlers that have `compress` set (it is never configured by users). It
// exists because Caddy starts apps only on a real run: `caddy validate` and
// `caddy adapt` provision handlers but start no app, so nothing is written
// then. Start compresses each static root in the background; Stop (config
// reload or shutdown) cancels and waits. Handlers trigger a new pass when
// they see a new staticfiles.json (a new collectstatic).
type filesCompressor struct {
	ctx     caddy.Context
	logger  *zap.Logger
	mu      sync.Mutex
	jobs    map[string]*compressJob
	started bool
	stopped bool
	runCtx  context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type compressJob struct {
	dir       string
	encodings []string
	running   bool
	again     bool
}

// CaddyModule returns the Caddy module information.
func (*filesCompressor) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  compressorAppID,
		New: func() caddy.Module { return new(filesCompressor) },
	}
}

// Provision sets up the app.
func (c *filesCompressor) Provision(ctx caddy.Context) error {
	c.ctx = ctx
	c.logger = ctx.Logger()
	c.jobs = map[string]*compressJob{}
	return nil
}

func (c *filesCompressor) add(dir string, encodings []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.jobs[dir]; ok {
		for _, e := range encodings {
			if !containsString(j.encodings, e) {
				j.encodings = append(j.encodings, e)
			}
		}
		return
	}
	c.jobs[dir] = &compressJob{dir: dir, encodings: encodings}
}

// Start compresses every registered static root in the background.
func (c *filesCompressor) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started = true
	c.runCtx, c.cancel = context.WithCancel(c.ctx)
	for _, j := range c.jobs {
		c.launchLocked(j)
	}
	return nil
}

// Stop cancels the work and waits for it to end.
func (c *filesCompressor) Stop() error {
	c.mu.Lock()
	c.stopped = true
	if c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// trigger runs another pass over dir (after a new collectstatic).
func (c *filesCompressor) trigger(dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.jobs[dir]; ok && c.started && !c.stopped {
		c.launchLocked(j)
	}
}

func (c *filesCompressor) launchLocked(j *compressJob) {
	if j.running {
		j.again = true
		return
	}
	j.running = true
	encs := append([]string(nil), j.encodings...)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			start := time.Now()
			n, err := compressTree(c.runCtx, j.dir, encs)
			switch {
			case err != nil && c.runCtx.Err() == nil:
				c.logger.Error("precompressing static files", zap.String("dir", j.dir), zap.Error(err))
			case err == nil:
				c.logger.Info("precompressed static files", zap.String("dir", j.dir),
					zap.Strings("encodings", encs), zap.Int("written", n), zap.Duration("took", time.Since(start)))
			}
			c.mu.Lock()
			if !j.again || c.stopped {
				j.running, j.again = false, false
				c.mu.Unlock()
				return
			}
			j.again = false
			c.mu.Unlock()
		}
	}()
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// compressEncodings validates the `compress` list.
func compressEncodings(list []string) ([]string, error) {
	var out []string
	for _, e := range list {
		switch e {
		case "gzip", "zstd":
			if !containsString(out, e) {
				out = append(out, e)
			}
		case "br", "brotli":
			return nil, fmt.Errorf("compress: brotli cannot be created (no pure-Go brotli encoder in Caddy's dependencies); use gzip and zstd, or create .br files at build time (they are served)")
		default:
			return nil, fmt.Errorf("compress: unknown encoding %q (use gzip, zstd)", e)
		}
	}
	return out, nil
}

var compressSuffix = map[string]string{"gzip": ".gz", "zstd": ".zst"}

// incompressibleExt are skipped (as WhiteNoise does), along with our own
// sidecars.
var incompressibleExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".avif": true, ".jxl": true,
	".heic": true, ".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".tbz": true, ".xz": true,
	".br": true, ".zst": true, ".7z": true, ".rar": true, ".swf": true, ".flv": true, ".woff": true,
	".woff2": true, ".3gp": true, ".3gpp": true, ".asf": true, ".avi": true, ".m4v": true, ".mov": true,
	".mp4": true, ".mpeg": true, ".mpg": true, ".webm": true, ".wmv": true, ".mp3": true, ".ogg": true,
	".oga": true, ".ogv": true, ".flac": true, ".m4a": true, ".aac": true, ".opus": true,
}

// compressTree writes missing or stale sidecars for the compressible files
// under dir and returns how many it wrote.
func compressTree(ctx context.Context, dir string, encodings []string) (int, error) {
	written := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || incompressibleExt[strings.ToLower(filepath.Ext(name))] {
			return nil
		}
		info, err := os.Stat(path) // follows collectstatic --link symlinks
		if err != nil || !info.Mode().IsRegular() || info.Size() == 0 {
			return nil
		}
		for _, enc := range encodings {
			ok, err := compressFile(path, info, enc)
			if err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			if ok {
				written++
			}
		}
		return nil
	})
	return written, err
}

// compressFile writes path's sidecar for enc unless an up-to-date one
// exists; the sidecar is kept only if it is at most 95% of the original.
func compressFile(path string, info fs.FileInfo, enc string) (bool, error) {
	target := path + compressSuffix[enc]
	if ti, err := os.Stat(target); err == nil && !ti.ModTime().Before(info.ModTime()) {
		return false, nil
	}
	src, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	zw, err := newCompressWriter(tmp, enc)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(zw, src); err != nil {
		return false, err
	}
	if err := zw.Close(); err != nil {
		return false, err
	}
	ti, err := tmp.Stat()
	if err != nil {
		return false, err
	}
	if ti.Size()*100 > info.Size()*95 {
		return false, nil // not worth it
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return false, err
	}
	return true, os.Rename(tmp.Name(), target)
}

func newCompressWriter(w io.Writer, enc string) (io.WriteCloser, error) {
	switch enc {
	case "gzip":
		return gzip.NewWriterLevel(w, gzip.BestCompression)
	case "zstd":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}

var (
	_ caddy.App         = (*filesCompressor)(nil)
	_ caddy.Provisioner = (*filesCompressor)(nil)
)
