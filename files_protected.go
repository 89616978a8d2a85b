package caddydjango

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"
)

// ProtectedFiles configures X-Accel-Redirect / X-Sendfile downloads.
type ProtectedFiles struct {
	// Directory the files are sent from. It has no public URL and must not
	// lie inside the static or media root. Required.
	Root string `json:"root,omitempty"`

	// URL prefix of X-Accel-Redirect values (django-sendfile2's
	// SENDFILE_URL); it is stripped and the rest is URL-decoded and looked
	// up under root. Default: `/protected/`.
	AccelPrefix string `json:"accel_prefix,omitempty"`

	// An S3-compatible bucket (a key prefix in it that has no public URL)
	// the files are sent from instead of root: `X-Accel-Redirect:
	// /protected/a/b.pdf` sends the object `<prefix>/a/b.pdf`, fetched and
	// signed by Caddy, with Django's headers; `X-Sendfile: /a/b.pdf` the
	// same. It may not overlap the media bucket's prefix.
	Bucket *BucketConfig `json:"bucket,omitempty"`

	// Files on other servers that X-Accel-Redirect may name by URL (a
	// presigned S3 or GCS URL): only on the listed hosts, see RemoteFiles.
	// With remote, root and bucket are optional.
	Remote *RemoteFiles `json:"remote,omitempty"`
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

// protectedSite is the provisioned protected root.
type protectedSite struct {
	dir     string
	realDir string // dir with symlinks resolved, when different
	prefix  string
	fs      *rootFS
	srv     *fileserver.FileServer
	bucket  *bucketSource // files from a bucket (no dir, fs, srv)
	remote  *remoteSource // X-Accel-Redirect to listed hosts (files_remote.go)
}

// provisionProtected sets up the protected root, when configured; it may
// not overlap the static or media root.
func (h *DjangoFiles) provisionProtected(ctx caddy.Context) error {
	if h.Protected == nil {
		return nil
	}
	p := &protectedSite{}
	var err error
	if p.prefix, err = normalizePrefix(h.Protected.AccelPrefix, defaultAccelPrefix); err != nil {
		return fmt.Errorf("protected: accel_prefix: %v", err)
	}
	if rf := h.Protected.Remote; rf != nil {
		if p.remote, err = h.newRemoteSource(rf); err != nil {
			return fmt.Errorf("protected: %v", err)
		}
		if h.Protected.Root == "" && h.Protected.Bucket == nil {
			h.protected = p // remote files only
			return nil
		}
	}
	if b := h.Protected.Bucket; b != nil {
		if h.Protected.Root != "" {
			return fmt.Errorf("protected: root %s and bucket %s are both set: protected files come from one of them", h.Protected.Root, b)
		}
		if p.bucket, err = h.newBucketSource(b); err != nil {
			return fmt.Errorf("protected: bucket: %v", err)
		}
		if h.media != nil && bucketsOverlap(p.bucket, h.media.bucket) {
			return fmt.Errorf("protected bucket %s overlaps the media bucket %s: protected files must not have a public URL", p.bucket.desc, h.media.bucket.desc)
		}
		h.protected = p
		return nil
	}
	if strings.TrimSpace(h.Protected.Root) == "" {
		return fmt.Errorf("protected: root is required (a directory, or a bucket)")
	}
	if p.dir, err = h.resolveDir("protected root", h.Protected.Root, ""); err != nil {
		return fmt.Errorf("protected: %v", err)
	}
	if real, err := filepath.EvalSymlinks(p.dir); err == nil && real != p.dir {
		p.realDir = real
	}
	for _, pub := range h.publicRoots() {
		if within(pub.dir, p.dir) || within(p.dir, pub.dir) {
			return fmt.Errorf("protected root %s overlaps the %s root %s: protected files must not have a public URL", p.dir, pub.name, pub.dir)
		}
	}
	if p.srv, p.fs, err = h.fileServer(ctx, p.dir, false, false); err != nil {
		return fmt.Errorf("protected: provisioning file_server: %v", err)
	}
	h.protected = p
	return nil
}

// publicRoots are the served directories that have a public URL.
func (h *DjangoFiles) publicRoots() []struct{ name, dir string } {
	var roots []struct{ name, dir string }
	if h.static != nil {
		roots = append(roots, struct{ name, dir string }{"static", h.static.dir})
		for _, a := range h.static.also {
			roots = append(roots, struct{ name, dir string }{"static also", a.dir})
		}
	}
	if h.media != nil && h.media.dir != "" {
		roots = append(roots, struct{ name, dir string }{"media", h.media.dir})
	}
	if h.rootFiles != nil {
		roots = append(roots, struct{ name, dir string }{"root_files", h.rootFiles.dir})
	}
	return roots
}

// protectedRoutes are reverse_proxy's handle_response routes that send a
// protected file when Django's response carries X-Accel-Redirect or
// X-Sendfile (404 when no protected root is configured).
func (h *DjangoFiles) protectedRoutes(ctx caddy.Context) ([]caddyhttp.ResponseHandler, error) {
	var routes []caddyhttp.ResponseHandler
	for _, ph := range []*protectedHandler{{h: h}, {h: h, sendfile: true}} {
		ph.collect = &reverseproxy.CopyResponseHeadersHandler{Exclude: protectedDroppedHeaders}
		if err := ph.collect.Provision(ctx); err != nil {
			return nil, err
		}
		routes = append(routes, caddyhttp.ResponseHandler{
			Match:  &caddyhttp.ResponseMatcher{Headers: http.Header{ph.field(): {}}},
			Routes: caddyhttp.RouteList{{Handlers: []caddyhttp.MiddlewareHandler{ph}}},
		})
	}
	return routes, nil
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
// relative to the protected root; for a bucket, the value is the object's
// path under the key prefix (`/a/b.pdf`).
func (p *protectedSite) sendfileTarget(v string) (string, bool) {
	if p.bucket != nil {
		name, ok := strings.CutPrefix(v, "/")
		if !ok || !safeRelName(name) || strings.HasSuffix(name, "/") {
			return "", false
		}
		return name, true
	}
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

// field is the response header this handler answers.
func (ph *protectedHandler) field() string {
	if ph.sendfile {
		return "X-Sendfile"
	}
	return "X-Accel-Redirect"
}

// ServeHTTP sends the protected file Django named instead of its body.
func (ph *protectedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	kind := ph.field()
	p := ph.h.protected
	if p == nil {
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s from upstream, but no protected root is configured", kind))
	}
	val, _ := repl.GetString("http.reverse_proxy.header." + kind)
	if p.remote != nil && !ph.sendfile {
		u, remote, err := p.remote.target(val)
		if err != nil {
			ph.h.logger.Warn("X-Accel-Redirect to a remote file refused", zap.String("url", redactedURL(u, val)), zap.Error(err))
			return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s target refused: %v", kind, err))
		}
		if remote {
			return ph.send(w, r, path.Base(u.Path), func(w http.ResponseWriter, r *http.Request) error { return p.remote.serve(w, r, u) })
		}
	}
	var name string
	var ok bool
	if ph.sendfile {
		name, ok = p.sendfileTarget(val)
	} else {
		name, ok = p.accelTarget(val)
	}
	switch {
	case !ok:
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s target %q is not inside the protected root", kind, val))
	case p.bucket != nil:
		return ph.send(w, r, name, func(w http.ResponseWriter, r *http.Request) error { return p.bucket.serveObject(w, r, name) })
	case p.fs == nil:
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s target %q: no protected root or bucket, only remote files", kind, val))
	}
	fi, err := p.fs.Stat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s target %q: not a file in the protected root", kind, val))
	}
	return ph.send(w, r, name, func(w http.ResponseWriter, r *http.Request) error { return serveRewritten(p.srv, w, r, next, "/"+name) })
}

// send answers r with serve (the file named name) and Django's response
// headers, made safe; should serve fail, those headers are taken back.
func (ph *protectedHandler) send(w http.ResponseWriter, r *http.Request, name string, serve func(http.ResponseWriter, *http.Request) error) error {
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
	err := serve(w, r2)
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

// headerCollector is a ResponseWriter that keeps only the header fields
// written to it.
type headerCollector struct{ h http.Header }

func (c *headerCollector) Header() http.Header         { return c.h }
func (c *headerCollector) Write(b []byte) (int, error) { return len(b), nil }
func (c *headerCollector) WriteHeader(int)             {}

// Interface guards
var (
	_ caddyhttp.MiddlewareHandler = (*protectedHandler)(nil)
	_ http.ResponseWriter         = (*headerCollector)(nil)
)
