// Package bucket reads objects from an S3-compatible bucket for
// django_files: one SigV4-signed HTTP request per read (a GET or HEAD that
// carries the client's Range and conditional headers), the answer's body
// streamed to the caller, time-outs on connecting, on the first byte and
// between body reads, and the bucket's errors turned into values that say
// what went wrong without the bucket's body. It also presigns URLs and
// writes objects (for tests, benchmarks and the cache's checks).
//
// Presigned URLs are minio-go's (pkg/signer, pkg/s3utils); requests are
// signed with the AWS SDK's SigV4 signer (sign.go: it keeps the signing key
// for the day). The request is this package's own, sent once: a full S3
// client (minio-go's Core, the AWS SDK) retries, may look up the bucket's
// region first, and turns a 304 or 412 into an error without its headers.
package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// DefaultTimeout bounds connecting to the bucket, waiting for its answer's
// header and each wait for more of its body.
const DefaultTimeout = 10 * time.Second

// DefaultRegion is the signing region when none is configured (boto3's
// and the AWS CLI's default too).
const DefaultRegion = "us-east-1"

// emptySHA256 is the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Config says where a bucket is and how to sign requests to it.
type Config struct {
	// Endpoint is the S3 API's base URL: scheme and host, with an optional
	// port and no path (`http://127.0.0.1:9000`, `https://s3.example.com`).
	// Empty: AWS's regional endpoint, https://s3.<region>.amazonaws.com.
	Endpoint string
	// Region signs the requests. Empty: us-east-1.
	Region string
	// Bucket is the bucket's name.
	Bucket string
	// PathStyle puts the bucket in the URL path (`host/bucket/key`)
	// instead of the host name (`bucket.host/key`, virtual-hosted style).
	// A bucket name with a dot is always addressed in the path over https
	// (its host name would not match the endpoint's certificate).
	PathStyle bool
	// AccessKey, SecretKey and SessionToken sign the requests. Both keys
	// empty: requests are sent unsigned (a public bucket).
	AccessKey, SecretKey, SessionToken string
	// Timeout bounds connecting, waiting for the answer's header, and each
	// wait for more of its body. Zero: DefaultTimeout.
	Timeout time.Duration
	// Transport sends the requests. Nil: a transport of the client's own
	// that keeps connections to the bucket for reuse.
	Transport http.RoundTripper
}

// Client reads and writes the objects of one bucket.
type Client struct {
	cfg      Config
	scheme   string
	host     string // the Host the requests go to (with the bucket when virtual-hosted)
	path     string // "/<bucket>" in path style, else ""
	rt       http.RoundTripper
	timeout  time.Duration
	requests atomic.Uint64
	signer   *v4Signer // nil: requests go unsigned
}

// CheckBucketName reports whether name can name a bucket.
func CheckBucketName(name string) error {
	if err := s3utils.CheckValidBucketName(name); err != nil {
		return fmt.Errorf("bucket name %q: %v", name, err)
	}
	return nil
}

// New checks cfg and returns a client for its bucket. It contacts nothing.
func New(cfg Config) (*Client, error) {
	if err := CheckBucketName(cfg.Bucket); err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "https://s3." + cfg.Region + ".amazonaws.com"
	}
	u, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, errors.New("credentials: an access key needs its secret key and a secret key its access key")
	}
	c := &Client{cfg: cfg, scheme: u.Scheme, host: u.Host, rt: cfg.Transport, timeout: cfg.Timeout}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if cfg.PathStyle || (u.Scheme == "https" && strings.Contains(cfg.Bucket, ".")) {
		c.path = "/" + cfg.Bucket
	} else {
		c.host = cfg.Bucket + "." + u.Host
	}
	if c.rt == nil {
		c.rt = NewTransport(c.timeout)
	}
	if cfg.AccessKey != "" {
		c.signer = newV4Signer(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken, cfg.Region)
	}
	return c, nil
}

// ParseEndpoint checks an S3 endpoint URL (http or https, a host, no
// path, query or user) and returns it without a default port.
func ParseEndpoint(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %v", endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL", endpoint)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q: want scheme://host[:port] with no path, query or user", endpoint)
	}
	if p := u.Port(); (p == "443" && u.Scheme == "https") || (p == "80" && u.Scheme == "http") {
		u.Host = u.Hostname()
		if strings.Contains(u.Host, ":") {
			u.Host = "[" + u.Host + "]"
		}
	}
	u.Path = ""
	return u, nil
}

// NewTransport is a transport for buckets: connections kept for reuse
// (many, as every client request may have one open), no HTTP compression
// (it would change lengths and ranges), time-outs on connecting and on the
// answer's header.
func NewTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       60 * time.Second,
		DisableCompression:    true,
		// bodies are read in large pieces: fewer read calls per object
		ReadBufferSize: 64 << 10,
	}
}

// Bucket is the bucket's name.
func (c *Client) Bucket() string { return c.cfg.Bucket }

// Endpoint is the base URL requests go to (the bucket not included).
func (c *Client) Endpoint() string { return c.cfg.Endpoint }

// Region is the signing region.
func (c *Client) Region() string { return c.cfg.Region }

// Signed reports whether requests are signed (the client has keys).
func (c *Client) Signed() bool { return c.cfg.AccessKey != "" }

// Requests is the number of requests sent to the bucket so far.
func (c *Client) Requests() uint64 { return c.requests.Load() }

// CloseIdleConnections closes the kept connections of the client's own
// transport.
func (c *Client) CloseIdleConnections() {
	if t, ok := c.rt.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// CheckKey reports whether key can name an object: not empty, valid UTF-8,
// at most 1024 bytes, no NUL.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty object key")
	case len(key) > 1024:
		return errors.New("object key longer than 1024 bytes")
	case !utf8.ValidString(key):
		return errors.New("object key is not UTF-8")
	case strings.IndexByte(key, 0) >= 0:
		return errors.New("object key with a NUL byte")
	}
	return nil
}

// objectURL is the URL of key.
func (c *Client) objectURL(key string) *url.URL {
	p := c.path + "/" + key
	return &url.URL{Scheme: c.scheme, Host: c.host, Path: p, RawPath: encodePath(p)}
}

// encodePath is s3utils.EncodePath(p) (what minio-go signs) without its
// regular expression for the common path that needs no escaping.
func encodePath(p string) string {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
		default:
			return s3utils.EncodePath(p)
		}
	}
	return p
}

// ReadHeaders are the request header fields Read passes on to the
// bucket: ranges and conditions. Anything else the client sent stays
// here.
var ReadHeaders = []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"}

// Object is the bucket's answer to a read that it could answer: 200 or
// 206 with the bytes, 304 (not modified), 412 (a condition failed) or 416
// (no such range), with the bucket's header fields.
type Object struct {
	StatusCode int
	Header     http.Header
	// Body streams the bytes of a GET's 200 or 206 (empty otherwise). Each
	// read waits at most the client's time-out for more bytes. Close it.
	Body io.ReadCloser
}

// Read sends one GET or HEAD for key, with the fields of hdr named in
// ReadHeaders, and returns the answer. A bucket's error answer is an
// *Error; a time-out is an error for which IsTimeout is true; anything
// else is the transport's error (the bucket cannot be reached).
func (c *Client) Read(ctx context.Context, method, key string, hdr http.Header) (*Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	return read(ctx, method, hdr, c.timeout, func(ctx context.Context) (*http.Response, error) {
		req := c.newRequest(ctx, method, key, emptySHA256, nil)
		copyReadHeaders(req.Header, hdr)
		return c.send(req)
	})
}

// Fetcher reads objects by URL (a presigned URL, a public object) as
// Client.Read reads keys: one unsigned GET or HEAD with the client's Range
// and conditions, the same time-outs, answers and errors. It follows no
// redirect: a 3xx is an *Error with its Location.
type Fetcher struct {
	// Transport sends the requests. Nil: a transport of the fetcher's own.
	Transport http.RoundTripper
	// Timeout as Config's. Zero: DefaultTimeout.
	Timeout time.Duration
}

// Fetch sends one GET or HEAD for u with the fields of hdr named in
// ReadHeaders.
func (f *Fetcher) Fetch(ctx context.Context, method string, u *url.URL, hdr http.Header) (*Object, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rt := f.Transport
	if rt == nil {
		rt = NewTransport(timeout)
	}
	return read(ctx, method, hdr, timeout, func(ctx context.Context) (*http.Response, error) {
		req := (&http.Request{Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: u.Host}).WithContext(ctx)
		copyReadHeaders(req.Header, hdr)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return nil, transportError(req, err)
		}
		return resp, nil
	})
}

// copyReadHeaders copies the ReadHeaders fields of from to to.
func copyReadHeaders(to, from http.Header) {
	for _, k := range ReadHeaders {
		if v, ok := from[k]; ok && len(v) > 0 {
			to[k] = v
		}
	}
}

// read sends one read with send (under a context it may cancel) and turns
// the answer into an Object or an error.
func read(ctx context.Context, method string, hdr http.Header, timeout time.Duration, send func(context.Context) (*http.Response, error)) (*Object, error) {
	if method != http.MethodGet && method != http.MethodHead {
		return nil, fmt.Errorf("read with method %s", method)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	resp, err := send(ctx)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
		if st := checkPreconditions(hdr, resp.Header); st != 0 {
			// a condition the bucket did not evaluate (or evaluated
			// otherwise: versitygw compares If-Modified-Since with the
			// file's sub-second time)
			resp.Body.Close()
			cancel(nil)
			return &Object{StatusCode: st, Header: resp.Header, Body: http.NoBody}, nil
		}
		body := io.ReadCloser(http.NoBody)
		if method == http.MethodGet {
			body = newIdleBody(resp.Body, timeout, cancel)
		} else {
			resp.Body.Close()
			cancel(nil)
		}
		return &Object{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
	case http.StatusNotModified, http.StatusPreconditionFailed, http.StatusRequestedRangeNotSatisfiable:
		if resp.StatusCode == http.StatusNotModified && resp.Header.Get("ETag") == "" {
			// versitygw's 304 names no ETag; the one the client holds
			// matched, when it sent only one
			if tags := hdr.Values("If-None-Match"); len(tags) == 1 && isEntityTag(tags[0]) {
				resp.Header.Set("ETag", strings.TrimPrefix(tags[0], "W/"))
			}
		}
		drain(resp.Body)
		cancel(nil)
		return &Object{StatusCode: resp.StatusCode, Header: resp.Header, Body: http.NoBody}, nil
	}
	defer cancel(nil)
	return nil, responseError(resp)
}

// checkPreconditions evaluates the client's conditions (RFC 9110 §13.2.2)
// against the bucket's 200 or 206 answer with header h: 412, 304, or 0
// when the body is to be sent.
func checkPreconditions(hdr, h http.Header) int {
	if len(hdr) == 0 || hdr["If-Match"] == nil && hdr["If-None-Match"] == nil && hdr["If-Modified-Since"] == nil && hdr["If-Unmodified-Since"] == nil {
		return 0 // no conditions (most reads): no dates to parse
	}
	etag := h.Get("ETag")
	lastMod, lmErr := http.ParseTime(h.Get("Last-Modified"))
	if im := hdr.Get("If-Match"); im != "" {
		if !matchTag(im, etag, false) {
			return http.StatusPreconditionFailed
		}
	} else if ius, err := http.ParseTime(hdr.Get("If-Unmodified-Since")); err == nil && lmErr == nil && lastMod.Truncate(time.Second).After(ius) {
		return http.StatusPreconditionFailed
	}
	if inm := hdr.Get("If-None-Match"); inm != "" {
		if matchTag(inm, etag, true) {
			return http.StatusNotModified
		}
	} else if ims, err := http.ParseTime(hdr.Get("If-Modified-Since")); err == nil && lmErr == nil && !lastMod.Truncate(time.Second).After(ims) {
		return http.StatusNotModified
	}
	return 0
}

// matchTag reports whether the If-Match / If-None-Match list matches etag:
// `*`, or one of its entity tags (weak comparison ignores W/).
func matchTag(list, etag string, weak bool) bool {
	if etag == "" {
		return false
	}
	if strings.TrimSpace(list) == "*" {
		return true
	}
	if weak {
		etag = strings.TrimPrefix(etag, "W/")
	} else if strings.HasPrefix(etag, "W/") {
		return false
	}
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if weak {
			t = strings.TrimPrefix(t, "W/")
		}
		if t == etag {
			return true
		}
	}
	return false
}

// isEntityTag reports whether s is one entity tag (`"x"` or `W/"x"`).
func isEntityTag(s string) bool {
	s = strings.TrimPrefix(s, "W/")
	return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.ContainsAny(s[1:len(s)-1], `",`)
}

// newRequest is a request for key (the bucket itself when key is "")
// with ctx and body, its payload hash set for signing.
func (c *Client) newRequest(ctx context.Context, method, key, payloadHash string, body []byte) *http.Request {
	u := c.objectURL(key)
	if key == "" {
		u.Path, u.RawPath = c.path+"/", ""
	}
	req := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"X-Amz-Content-Sha256": {payloadHash}},
		Host:       c.host,
	}
	req = req.WithContext(ctx)
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req
}

// send signs req and sends it once, counting it.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.signer != nil {
		if err := c.signer.sign(req, time.Now()); err != nil {
			return nil, fmt.Errorf("signing the request: %v", err)
		}
	}
	c.requests.Add(1)
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, transportError(req, err)
	}
	return resp, nil
}

// Put writes body as the object key with the extra header fields hdr
// (Content-Type, Cache-Control, x-amz-meta-…), in one signed request.
func (c *Client) Put(ctx context.Context, key string, body []byte, hdr http.Header) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	req := c.newRequest(ctx, http.MethodPut, key, hex.EncodeToString(sum[:]), body)
	for k, v := range hdr {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	return c.expectOK(req)
}

// Delete removes the object key (no error when it does not exist).
func (c *Client) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	return c.expectOK(c.newRequest(ctx, http.MethodDelete, key, emptySHA256, nil))
}

// CreateBucket creates the bucket; one that exists already and is
// the caller's is no error.
func (c *Client) CreateBucket(ctx context.Context) error {
	err := c.expectOK(c.newRequest(ctx, http.MethodPut, "", emptySHA256, []byte{}))
	var e *Error
	if errors.As(err, &e) && (e.Code == "BucketAlreadyOwnedByYou" || e.Code == "BucketAlreadyExists") {
		return nil
	}
	return err
}

// expectOK sends req and turns any answer but a 2xx into an *Error.
func (c *Client) expectOK(req *http.Request) error {
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return responseError(resp)
	}
	drain(resp.Body)
	return nil
}

// Presign returns a URL that lets anyone holding it send method for key
// for expires (at most 7 days), as django-storages' querystring_auth
// URLs. It contacts nothing.
func (c *Client) Presign(method, key string, expires time.Duration) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	secs := int64(expires / time.Second)
	if secs < 1 || secs > 7*24*3600 {
		return "", fmt.Errorf("presigned URL lifetime %s: want 1s to 7 days", expires)
	}
	req := &http.Request{Method: method, URL: c.objectURL(key), Header: http.Header{}, Host: c.host}
	if c.cfg.AccessKey != "" {
		req = signer.PreSignV4(*req, c.cfg.AccessKey, c.cfg.SecretKey, c.cfg.SessionToken, c.cfg.Region, secs)
	}
	return req.URL.String(), nil
}

// Error is a bucket's error answer: its status and, when it sent an S3
// error document (a HEAD's answer has none), its code and message. The
// bucket's body goes no further.
type Error struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
	Location   *url.URL // a redirect's target (resolved against the request's URL)
}

func (e *Error) Error() string {
	s := "the bucket answered " + strconv.Itoa(e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// NotFound reports whether the answer means there is no such object: 404
// NoSuchKey (not NoSuchBucket, nor versitygw's 404 for an unknown access
// key), AWS's 403 AccessDenied for a missing key when the credentials may
// not list the bucket, or a HEAD's bare 404 or 403 (it has no error
// document to tell).
func (e *Error) NotFound() bool {
	switch e.StatusCode {
	case http.StatusNotFound:
		return e.Code == "" || e.Code == "NoSuchKey" || e.Code == "NotFound"
	case http.StatusForbidden:
		return e.Code == "" || e.Code == "AccessDenied"
	}
	return false
}

// responseError reads (a bounded part of) resp's S3 error document and
// closes its body.
func responseError(resp *http.Response) *Error {
	defer drain(resp.Body)
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Amz-Request-Id")}
	if resp.StatusCode/100 == 3 {
		if loc, err := resp.Location(); err == nil {
			e.Location = loc
		}
	}
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if xml.Unmarshal(data, &doc) == nil {
		e.Code, e.Message = clip(doc.Code, 64), clip(doc.Message, 300)
	}
	return e
}

// clip cuts s to at most n bytes of printable text.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// drain reads a little of body, so the connection can be reused, and
// closes it.
func drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	body.Close()
}

// transportError is err without the request's query (a presigned URL's
// signature), and a time-out as one.
func transportError(req *http.Request, err error) error {
	var te *TimeoutError
	if errors.As(err, &te) {
		return te
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{Op: req.Method + " " + redact(req.URL), Err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", req.Method, redact(req.URL), err)
}

// redact is u without its query and user.
func redact(u *url.URL) string {
	v := *u
	v.RawQuery, v.User, v.Fragment = "", nil, ""
	return v.String()
}

// TimeoutError is a bucket that did not answer, or stopped sending its
// body, in time.
type TimeoutError struct {
	Op  string
	Err error
}

func (e *TimeoutError) Error() string { return e.Op + ": the bucket did not answer in time" }
func (e *TimeoutError) Unwrap() error { return e.Err }
func (e *TimeoutError) Timeout() bool { return true }

// IsTimeout reports whether err is a time-out waiting for the bucket.
func IsTimeout(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}

// errIdle cancels a body that sent nothing for a whole time-out.
var errIdle = errors.New("the bucket sent no more of the body in time")

// idleBody is a response body whose every read must make progress within
// d (time spent between reads, writing to a slow client, does not count),
// else the request is cancelled and the read fails with a *TimeoutError.
type idleBody struct {
	rc     io.ReadCloser
	d      time.Duration
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

func newIdleBody(rc io.ReadCloser, d time.Duration, cancel context.CancelCauseFunc) *idleBody {
	b := &idleBody{rc: rc, d: d, cancel: cancel}
	b.timer = time.AfterFunc(d, func() { cancel(errIdle) })
	b.timer.Stop()
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.d)
	n, err := b.rc.Read(p)
	if !b.timer.Stop() && err != nil && err != io.EOF {
		// the timer fired during this read: the body stalled
		return n, &TimeoutError{Op: "reading the object", Err: errIdle}
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
