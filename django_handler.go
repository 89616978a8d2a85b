package caddydjango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(DjangoFiles{})
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

func durationOr(d caddy.Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*DjangoFiles)(nil)
	_ caddy.CleanerUpper          = (*DjangoFiles)(nil)
	_ caddyhttp.MiddlewareHandler = (*DjangoFiles)(nil)
)
