package caddydjango

import (
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
	"github.com/prometheus/client_golang/prometheus"
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
//     Retry-After (a Caddy error for the site's `handle_errors`, when it
//     has one). `request_buffer off` streams bodies instead.
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

	// Files served at the site root (`robots.txt`, `favicon.ico`,
	// `.well-known/…`), as WhiteNoise's WHITENOISE_ROOT; see RootFiles.
	// Default: none.
	RootFiles *RootFiles `json:"root_files,omitempty"`

	// Files sent only when Django answers with X-Accel-Redirect or
	// X-Sendfile. Default: none; such responses are then 404 (the header is
	// never passed on).
	Protected *ProtectedFiles `json:"protected,omitempty"`

	// The address of the app server: `host:port` or
	// `unix//path/to/socket`. Default: the bind of the `django` app's app
	// server named App.
	Upstream string `json:"upstream,omitempty"`

	// App names the `django` app's app server requests go to (and wait
	// for). Default: the first one declared.
	App string `json:"app,omitempty"`

	// Largest request body accepted, in bytes. Larger requests get 413
	// and never reach Gunicorn. -1: no limit (`max_body unlimited`).
	// Default: 100 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// Request bodies up to this many bytes are buffered in memory; larger
	// ones (up to max_body) are spooled to a temporary file. Either way the
	// whole body is read before Gunicorn is contacted. -1
	// (`request_buffer off`): bodies are not buffered but streamed to the
	// app server as they arrive (a slow upload then holds an app server
	// worker for as long as it lasts). Default: 1 MiB.
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
	// USE_X_FORWARDED_PORT cannot be spoofed; an X-Request-Start of
	// theirs is removed too. Default: none.
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
	// For daphne (one process, which keeps idle connections for hours) the
	// default is 10s: a new connection per request costs it more than the
	// proxy saves.
	UpstreamKeepAlive caddy.Duration `json:"upstream_keepalive,omitempty"`

	// A URL path (e.g. `/healthz`) that Caddy answers itself, for any
	// Host and without calling Django: 200 with a JSON list of the django
	// app's processes (name, state) when every app server is RUNNING and no
	// process is FATAL or BACKOFF, else 503 naming what is wrong. Never
	// cached, not in the access log. Needs the django app. Default: none.
	Health string `json:"health,omitempty"`

	// Do not set X-Request-Start (`t=<microseconds since the epoch>`, when
	// Caddy received the request) on proxied requests. By default it is
	// set, so APM tools show queue time; a trusted proxy's value is kept.
	DisableRequestStart bool `json:"disable_request_start,omitempty"`

	// How long the app server has to begin its answer to a proxied request
	// (status and headers), from when the request is sent to it (its body
	// already received, the app server serving). Past it the client gets
	// 504 with a short body, the request is not sent again, and the error
	// log names the method, path, time, app server and the PID of the
	// worker holding the request (Linux). An answer that has begun is
	// never cut or turned into a 504: it goes on until it ends (streams,
	// websockets, large exports). Default: none.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// What else happens when a request times out: `log` (default: the 504
	// and the log entry only) or `recycle`: the worker holding the request
	// is replaced gracefully (its master starts another; its other
	// requests finish or meet their own deadlines; uvicorn, hypercorn,
	// daphne and Gunicorn's UvicornWorker: a new generation), with every
	// thread's Python stack in the log first when the app server's
	// environment sets PYTHONFAULTHANDLER. Needs timeout and the django
	// app's app server.
	OnTimeout string `json:"on_timeout,omitempty"`

	app       *App
	root      string // relative directories start here
	logger    *zap.Logger
	static    *staticSite // from the Caddyfile (see sites)
	media     *mediaSite
	sites     *siteSwitch // the static and media sites in effect
	rootFiles *rootFilesSite
	protected *protectedSite
	proxy     *reverseproxy.Handler
	fsKeys    []string
	fsmap     caddy.FileSystems
	roots     []*rootFS
	gate      *requestGate // holds the roots until the last request ends (inflight.go)
	waitApp   bool
	appServer *spec  // the app server waited for (with waitApp)
	switched  bool   // dial the app server's serving generation (appserver_switch.go)
	upstream  string // the upstream's address (metrics label)
	inFlight  prometheus.Gauge

	timeoutLabel string             // the app server's name, or the upstream (request_timeout.go)
	timeouts     prometheus.Counter // time-outs of this app server

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
	h.fsmap = ctx.FileSystems()
	h.gate = new(requestGate)
	for _, step := range []func(caddy.Context) error{
		h.provisionApp,
		h.provisionLimits,
		h.provisionTrustedProxies,
		h.provisionFiles,
		h.provisionProtected,
		h.provisionProxy,
		h.provisionTimeout,
		h.provisionHealth,
		registerRequestMetrics,
		registerBucketMetrics,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// provisionApp finds the django app, when it is configured, and the
// directory relative paths start from: the app's root, else Caddy's
// working directory.
func (h *DjangoFiles) provisionApp(ctx caddy.Context) error {
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
	if h.app != nil {
		h.root = h.app.RootDir()
	}
	if h.root == "" {
		if h.root, err = os.Getwd(); err != nil {
			return err
		}
	}
	return nil
}

// resolveDir expands placeholders in the configured directory p of field
// (def when empty) and makes it absolute, relative to the handler's root.
func (h *DjangoFiles) resolveDir(field, p, def string) (string, error) {
	p, err := expandPlaceholders(field, p)
	if err != nil {
		return "", err
	}
	if p == "" {
		p = def
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(h.root, p)
	}
	return filepath.Abs(p)
}

// Cleanup releases the sub-handlers and open directories.
func (h *DjangoFiles) Cleanup() error {
	var err error
	h.closeSites()
	if h.proxy != nil {
		err = h.proxy.Cleanup()
	}
	if h.static != nil {
		h.static.close()
	}
	// the roots, filesystems and remote client once the old config's last
	// request has ended (inflight.go): Caddy does not wait for them
	h.gate.close(func() {
		for _, k := range h.fsKeys {
			if h.fsmap != nil {
				h.fsmap.Unregister(k)
			}
		}
		for _, r := range h.roots {
			r.close()
		}
		if h.protected != nil {
			h.protected.remote.close()
		}
	})
	return err
}

// ServeHTTP serves static files and media under their prefixes, root
// files, and proxies everything else.
func (h *DjangoFiles) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if r.Header.Get("Upgrade") == "" { // an upgraded stream never reaches the files again
		h.gate.enter()
		defer h.gate.leave()
	}
	p := r.URL.Path
	if h.Health != "" && p == h.Health {
		return h.serveHealth(w, r)
	}
	sites := h.currentSites(r.Context())
	if sites == nil { // the project's settings are not read yet
		return unavailable(w, r)
	}
	if s := sites.static; s != nil && strings.HasPrefix(p, s.prefix) {
		return h.serveStatic(w, r, next, s, p[len(s.prefix)-1:])
	}
	if m := sites.media; m != nil && strings.HasPrefix(p, m.prefix) {
		return h.serveMedia(w, r, next, m, p[len(m.prefix)-1:])
	}
	if s := sites.static; s != nil {
		if file, ok := s.aliasOf(r); ok {
			return h.serveStaticAlias(w, r, next, s, file)
		}
	}
	if rf := sites.rootFiles; rf != nil && rf.matches(r) {
		return h.serveRootFile(w, r, next, rf)
	}
	return h.serveProxy(w, r, next)
}

// durationOr is d, or def when d is zero (unset).
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
