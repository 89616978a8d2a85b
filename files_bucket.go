package caddydjango

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddy-django/caddy-django/internal/bucket"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Media (and protected files) from an S3-compatible bucket instead of a
// directory: what django-storages' S3 backend writes, served with the same
// rules as files on disk. Each client request costs one bucket request (a
// GET or HEAD carrying the client's Range and conditions, signed by Caddy),
// streamed through a fixed buffer; a bucket error is a plain 404, 502 or
// 504 for the client and a log line naming the cause for the operator.

// BucketConfig is an S3-compatible bucket files are served from.
type BucketConfig struct {
	// The bucket's name. Required.
	Name string `json:"name,omitempty"`

	// Key prefix (django-storages' `location`): the file `a/b.png` is
	// the object `<prefix>/a/b.png`. Default: none.
	Prefix string `json:"prefix,omitempty"`

	// The S3 API's base URL (`https://s3.example.com`,
	// `http://127.0.0.1:9000`). Default: AWS's regional endpoint
	// `https://s3.<region>.amazonaws.com`.
	Endpoint string `json:"endpoint,omitempty"`

	// The region requests are signed for. Default: `AWS_DEFAULT_REGION` or
	// `AWS_REGION` of the app's environment, else `us-east-1`.
	Region string `json:"region,omitempty"`

	// `path` (`endpoint/bucket/key`), `virtual` (`bucket.endpoint/key`) or
	// `auto`: virtual-hosted on AWS's endpoints, path-style on any other
	// (MinIO, SeaweedFS, versitygw, Ceph…). Default: `auto`.
	AddressingStyle string `json:"addressing_style,omitempty"`

	// Access key ID. Placeholders such as `{env.MEDIA_KEY_ID}` are
	// expanded. Default: `AWS_ACCESS_KEY_ID` of the django app's
	// environment (the app server's, as Django sees it), else Caddy's.
	AccessKey string `json:"access_key,omitempty"`

	// Secret access key; write it as a placeholder (`{env.…}`,
	// `{file.…}`) so that it stays out of the JSON config. Default:
	// `AWS_SECRET_ACCESS_KEY`, as for access_key. Never logged or shown.
	SecretKey string `json:"secret_key,omitempty"`

	// Session token of temporary credentials. Default:
	// `AWS_SESSION_TOKEN` (or `AWS_SECURITY_TOKEN`), as for access_key,
	// when the access key came from there too.
	SessionToken string `json:"session_token,omitempty"`

	// Bounds connecting to the bucket, waiting for its answer, and each
	// wait for more of an object's bytes: past it the client gets 504
	// (or, mid-body, a cut connection). Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// A directory for a local cache of the bucket's objects (bucket_cache.go):
	// a cached object is sent without a bucket request while it is fresh
	// (cache_ttl), then revalidated with its ETag. It must be Caddy's
	// alone (files a previous Caddy left there are removed). Default: no
	// cache.
	CacheDir string `json:"cache_dir,omitempty"`

	// Most bytes the cache holds; the least recently used objects go first.
	// Objects larger than a quarter of it (or 64 MiB) are not cached.
	// Default: 256 MiB.
	CacheSize int64 `json:"cache_size,omitempty"`

	// How long a cached object is sent without asking the bucket. Default:
	// 1m.
	CacheTTL caddy.Duration `json:"cache_ttl,omitempty"`

	literal bool // from the settings: values used as they are, no placeholders
}

// Addressing styles.
const (
	addressingAuto    = "auto"
	addressingPath    = "path"
	addressingVirtual = "virtual"
)

// parseBucketURL reads `s3://bucket[/prefix]` into a BucketConfig; ok is
// false when s is not an s3:// URL.
func parseBucketURL(s string) (b *BucketConfig, ok bool, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return nil, false, nil
	}
	name, prefix, _ := strings.Cut(rest, "/")
	b = &BucketConfig{Name: name, Prefix: prefix}
	if err := b.check(); err != nil {
		return nil, true, fmt.Errorf("%s: %v", s, err)
	}
	return b, true, nil
}

// String is the bucket as `s3://name/prefix`.
func (b *BucketConfig) String() string {
	if b.Prefix == "" {
		return "s3://" + b.Name
	}
	return "s3://" + b.Name + "/" + strings.TrimSuffix(b.Prefix, "/")
}

// check validates what can be checked without placeholders expanded.
func (b *BucketConfig) check() error {
	if b.Name == "" {
		return errors.New("the bucket's name is missing (s3://bucket/prefix)")
	}
	if err := bucket.CheckBucketName(b.Name); err != nil {
		return err
	}
	if _, err := keyPrefix(b.Prefix); err != nil {
		return err
	}
	switch b.AddressingStyle {
	case "", addressingAuto, addressingPath, addressingVirtual:
	default:
		return fmt.Errorf("addressing_style %q: want path, virtual or auto", b.AddressingStyle)
	}
	if b.Timeout < 0 || b.CacheTTL < 0 || b.CacheSize < 0 {
		return errors.New("timeout, cache_size and cache_ttl must not be negative")
	}
	if b.Endpoint != "" && !strings.Contains(b.Endpoint, "{") {
		if _, err := bucket.ParseEndpoint(b.Endpoint); err != nil {
			return err
		}
	}
	return nil
}

// keyPrefix is a key prefix in canonical form (no leading slash; a
// trailing one unless empty): a plain relative path.
func keyPrefix(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", nil
	}
	if !safeRelName(p) {
		return "", fmt.Errorf("key prefix %q must be a plain path (no empty, . or .. segments, dotfiles or backslashes)", p)
	}
	return p + "/", nil
}

// bucketSource is a provisioned bucket: its client and key prefix.
type bucketSource struct {
	client *bucket.Client
	prefix string // "" or ending in "/"
	desc   string // s3://name/prefix
	logger *zap.Logger
	cache  *objectCache // nil: no cache_dir
}

// bucketEnv is where credentials and the region come from when the
// configuration does not name them: the django app's app server's
// environment (what Django and django-storages see), else Caddy's.
func (h *DjangoFiles) bucketEnv() []string {
	if h.app != nil {
		if s := h.app.appServerSpec(h.App); s != nil {
			return s.Env
		}
		return h.app.env
	}
	return nil
}

// envOr is key's value in env (nil: Caddy's own environment).
func envOr(env []string, key string) string {
	if env == nil {
		return os.Getenv(key)
	}
	return envValue(env, key)
}

// newBucketSource checks b, expands its placeholders, resolves the
// credentials and builds its client. It contacts nothing.
func (h *DjangoFiles) newBucketSource(b *BucketConfig) (*bucketSource, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	cfg := bucket.Config{Bucket: b.Name, Timeout: time.Duration(b.Timeout)}
	var err error
	fields := []struct {
		name     string
		in       string
		out      *string
		secret   bool
		fallback []string
	}{
		{"endpoint", b.Endpoint, &cfg.Endpoint, false, nil},
		{"region", b.Region, &cfg.Region, false, []string{"AWS_DEFAULT_REGION", "AWS_REGION"}},
		{"access_key", b.AccessKey, &cfg.AccessKey, false, []string{"AWS_ACCESS_KEY_ID"}},
		{"secret_key", b.SecretKey, &cfg.SecretKey, true, []string{"AWS_SECRET_ACCESS_KEY"}},
		{"session_token", b.SessionToken, &cfg.SessionToken, true, []string{"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"}},
	}
	env := h.bucketEnv()
	for _, f := range fields {
		if b.literal {
			*f.out = f.in
		} else if *f.out, err = expandPlaceholders(f.name, f.in); err != nil {
			if f.secret {
				return nil, fmt.Errorf("%s: cannot expand its placeholders", f.name)
			}
			return nil, err
		}
		if f.in != "" || (f.name == "session_token" && b.AccessKey != "") {
			continue // given (a session token goes with the keys it came with)
		}
		for _, k := range f.fallback {
			if v := envOr(env, k); v != "" {
				*f.out = v
				break
			}
		}
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, errors.New("credentials: an access key needs a secret key (access_key and secret_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	endpoint := cfg.Endpoint
	switch b.AddressingStyle {
	case addressingPath:
		cfg.PathStyle = true
	case addressingVirtual:
	default: // auto: virtual-hosted on AWS, path-style elsewhere
		cfg.PathStyle = endpoint != "" && !isAWSEndpoint(endpoint)
	}
	cfg.Transport = bucketTransport(cfg.Timeout)
	client, err := bucket.New(cfg)
	if err != nil {
		return nil, err
	}
	if !client.Signed() {
		h.logger.Warn("no credentials for the bucket: requests to it are sent unsigned, which only a public bucket answers",
			zap.String("bucket", b.String()), zap.String("set", "access_key and secret_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"))
	}
	prefix, _ := keyPrefix(b.Prefix)
	cache, err := h.cacheFor(b)
	if err != nil {
		return nil, err
	}
	return &bucketSource{client: client, prefix: prefix, desc: b.String(), logger: h.logger, cache: cache}, nil
}

// bucketsOverlap reports whether a and b (either may be nil) serve keys
// of the same bucket where one prefix contains the other.
func bucketsOverlap(a, b *bucketSource) bool {
	if a == nil || b == nil || a.client.Bucket() != b.client.Bucket() || a.client.Endpoint() != b.client.Endpoint() {
		return false
	}
	return strings.HasPrefix(a.prefix, b.prefix) || strings.HasPrefix(b.prefix, a.prefix)
}

// isAWSEndpoint reports whether endpoint is one of AWS's S3 hosts.
func isAWSEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")
}

// bucketTransports are the HTTP transports to buckets, one per time-out,
// shared by every bucket and kept across config reloads: connections to a
// bucket stay warm through a reload.
var bucketTransports = struct {
	sync.Mutex
	m map[time.Duration]http.RoundTripper
}{m: map[time.Duration]http.RoundTripper{}}

// bucketTransport returns the shared transport for a time-out (0: the
// default).
func bucketTransport(timeout time.Duration) http.RoundTripper {
	if timeout <= 0 {
		timeout = bucket.DefaultTimeout
	}
	bucketTransports.Lock()
	defer bucketTransports.Unlock()
	t, ok := bucketTransports.m[timeout]
	if !ok {
		t = bucket.NewTransport(timeout)
		bucketTransports.m[timeout] = t
	}
	return t
}

// copyBuffers are the buffers object bodies are copied through: memory
// per download does not grow with the object.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// bucketPassedHeaders are the fields of the bucket's answer that reach
// the client. Content-Type, Content-Disposition and Cache-Control are the
// caller's (the type stored with an upload is whatever its uploader said).
var bucketPassedHeaders = []string{"Etag", "Last-Modified", "Content-Length", "Content-Range"}

// serveObject answers a GET or HEAD for name (a safe relative name) with
// the object prefix+name: one bucket request with the client's Range and
// conditions. The header fields already set on w (Content-Type,
// Cache-Control, Content-Disposition, the safety fields) are sent with a
// 200, 206 or 304. A missing object is a 404 error; a failing bucket a
// 502 or 504 error that tells the log, not the client, why.
func (b *bucketSource) serveObject(w http.ResponseWriter, r *http.Request, name string) error {
	key := b.prefix + name
	if err := bucket.CheckKey(key); err != nil {
		return caddyhttp.Error(http.StatusNotFound, err)
	}
	if b.cache != nil {
		if handled, err := b.serveCached(w, r, key); handled {
			return err
		}
	}
	obj, err := readRanged(r, func(hdr http.Header) (*bucket.Object, error) { return b.read(r, r.Method, key, hdr) })
	if err != nil {
		return b.errorFor(key, err)
	}
	if b.cache != nil {
		b.teeToCache(r, key, obj)
	}
	return sendObject(w, r, obj, b.onBodyError(key))
}

// onBodyError logs that the bucket stopped sending key midway.
func (b *bucketSource) onBodyError(key string) func(error) {
	return func(err error) {
		b.logger.Error("the bucket stopped sending an object", zap.String("bucket", b.desc), zap.String("key", key), zap.Error(err))
	}
}

// readRanged sends the read for the client's request r with read: once
// with its Range and conditions (If-Range made a precondition); a second
// time, for the whole object, only when If-Range's object has changed.
func readRanged(r *http.Request, read func(http.Header) (*bucket.Object, error)) (*bucket.Object, error) {
	fwd, ifRange := rangeCondition(r.Header)
	obj, err := read(fwd)
	if err == nil && ifRange && obj.StatusCode == http.StatusPreconditionFailed {
		obj, err = read(withoutRange(r.Header))
	}
	return obj, err
}

// sendObject answers r with obj: its ETag, Last-Modified, length and range
// with the header fields already set on w (the caller's Content-Type,
// Cache-Control, Content-Disposition, safety fields); a 304, 412 or 416 as
// such; the body of a GET through a pooled buffer. When reading the body
// fails midway (the header is sent), onBodyError is told and the
// connection is cut, so that the client does not take a part for the
// whole; a client that goes away ends it quietly.
func sendObject(w http.ResponseWriter, r *http.Request, obj *bucket.Object, onBodyError func(error)) error {
	defer obj.Body.Close()
	hdr := w.Header()
	for _, k := range bucketPassedHeaders {
		if v := obj.Header.Get(k); v != "" {
			hdr[k] = []string{v}
		}
	}
	if enc := obj.Header.Get("Content-Encoding"); knownEncoding(enc) {
		hdr["Content-Encoding"] = []string{enc} // stored compressed (AWS_IS_GZIPPED)
	}
	switch obj.StatusCode {
	case http.StatusNotModified:
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition", "Content-Range"} {
			delete(hdr, k)
		}
		w.WriteHeader(http.StatusNotModified)
		return nil
	case http.StatusPreconditionFailed, http.StatusRequestedRangeNotSatisfiable:
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition", "Etag", "Last-Modified"} {
			delete(hdr, k)
		}
		if obj.StatusCode == http.StatusPreconditionFailed {
			delete(hdr, "Content-Range")
		}
		hdr["Content-Length"] = []string{"0"}
		w.WriteHeader(obj.StatusCode)
		return nil
	}
	hdr["Accept-Ranges"] = []string{"bytes"}
	w.WriteHeader(obj.StatusCode)
	if r.Method == http.MethodHead {
		return nil
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	for {
		n, rerr := obj.Body.Read(*buf)
		if n > 0 {
			if _, werr := w.Write((*buf)[:n]); werr != nil {
				return nil // the client went away
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			onBodyError(rerr)
			panic(http.ErrAbortHandler)
		}
	}
}

// read sends one read for key, counting it by its outcome.
func (b *bucketSource) read(r *http.Request, method, key string, hdr http.Header) (*bucket.Object, error) {
	obj, err := b.client.Read(r.Context(), method, key, hdr)
	bucketRequests.WithLabelValues(b.client.Bucket(), bucketOutcome(obj, err)).Inc()
	return obj, err
}

// bucketOutcome labels a bucket request: its status, `timeout` or `error`.
func bucketOutcome(obj *bucket.Object, err error) string {
	var e *bucket.Error
	switch {
	case err == nil:
		return strconv.Itoa(obj.StatusCode)
	case errors.As(err, &e):
		return strconv.Itoa(e.StatusCode)
	case bucket.IsTimeout(err):
		return "timeout"
	}
	return "error"
}

// errorFor maps a failed read to the client's status: 404 for a missing
// object; 504 when the bucket did not answer in time; 502 for anything
// else (unreachable, wrong credentials or region, a missing bucket, a
// server error), logged at error level with the bucket's code and message.
func (b *bucketSource) errorFor(key string, err error) error {
	var e *bucket.Error
	switch {
	case errors.As(err, &e) && e.NotFound() && (e.StatusCode == http.StatusNotFound || b.client.Signed()):
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("%s: %s: %v", b.desc, key, err))
	case bucket.IsTimeout(err):
		return caddyhttp.Error(http.StatusGatewayTimeout, fmt.Errorf("%s: %s: %v", b.desc, key, err))
	case errors.As(err, &e):
		return caddyhttp.Error(http.StatusBadGateway, fmt.Errorf("%s: %s: %v%s", b.desc, key, err, bucketHint(e)))
	}
	return caddyhttp.Error(http.StatusBadGateway, fmt.Errorf("%s: %s: cannot reach the bucket: %v", b.desc, key, err))
}

// bucketHint says what an S3 error code usually means for this setup.
func bucketHint(e *bucket.Error) string {
	switch e.Code {
	case "SignatureDoesNotMatch":
		return " (the secret key is wrong)"
	case "InvalidAccessKeyId", "XAdminUserNotFound":
		return " (the access key is unknown to the bucket's server)"
	case "AuthorizationHeaderMalformed", "PermanentRedirect":
		return " (the region or endpoint does not match the bucket's)"
	case "NoSuchBucket":
		return " (the bucket does not exist)"
	case "ExpiredToken", "InvalidToken":
		return " (the session token is expired or wrong)"
	}
	if e.StatusCode == http.StatusForbidden && (e.Code == "AccessDenied" || e.Code == "") {
		return " (no credentials: requests are unsigned; set access_key and secret_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
	}
	return ""
}

// rangeCondition is the request header to send to the bucket. S3 ignores
// If-Range: a Range with an If-Range becomes a Range with the matching
// precondition (If-Match for an entity tag, If-Unmodified-Since for a
// date), and ifRange reports that a 412 then means "send it all". When the
// client set that precondition itself, the range is dropped (the whole
// object, as RFC 9110 allows).
func rangeCondition(h http.Header) (http.Header, bool) {
	ir := h.Get("If-Range")
	if ir == "" || h.Get("Range") == "" {
		return h, false
	}
	out := make(http.Header, len(bucket.ReadHeaders))
	for _, k := range bucket.ReadHeaders {
		if v, ok := h[k]; ok {
			out[k] = v
		}
	}
	field := "If-Unmodified-Since"
	if strings.HasSuffix(ir, `"`) {
		if strings.HasPrefix(ir, "W/") {
			delete(out, "Range") // a weak tag never matches for a range
			return out, false
		}
		field = "If-Match"
	}
	if _, ok := out[field]; ok {
		delete(out, "Range")
		return out, false
	}
	out[field] = []string{ir}
	return out, true
}

// withoutRange is h without Range and If-Range.
func withoutRange(h http.Header) http.Header {
	out := make(http.Header, len(bucket.ReadHeaders))
	for _, k := range bucket.ReadHeaders {
		if v, ok := h[k]; ok && k != "Range" {
			out[k] = v
		}
	}
	return out
}

// knownEncoding reports whether enc is a content coding browsers decode.
func knownEncoding(enc string) bool {
	switch enc {
	case "gzip", "br", "zstd", "deflate":
		return true
	}
	return false
}

// bucketRequests counts the requests sent to buckets, by bucket and
// outcome (its status, `timeout`, `error`).
var bucketRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: metricsNamespace,
	Name:      "bucket_requests_total",
	Help:      "Requests django_files sent to S3 buckets, by bucket and outcome (the bucket's status, timeout or error).",
}, []string{"bucket", "outcome"})

func registerBucketMetrics(ctx caddy.Context) error {
	return registerAll(ctx, bucketRequests, bucketCacheHits)
}
