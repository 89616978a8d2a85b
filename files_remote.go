package caddydjango

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/bucket"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// Remote X-Accel-Redirect: Django answers with the URL of a file on another
// server (a presigned S3 or GCS URL, as Zulip and Label Studio do with
// nginx), and Caddy fetches it and sends it with Django's headers and the
// safety headers. Django's answer may be steered by what users upload or
// type, so the fetch is a server-side request forgery risk, bounded by
// rules: only listed hosts; https unless a host is listed with http://;
// redirects followed only on the same scheme, host and port; a host
// matched by a wildcard must resolve to public addresses (loopback,
// private, link-local and other special ranges are refused at connect
// time, whatever DNS said before); a size limit and time-outs.

// RemoteFiles lets X-Accel-Redirect name a file on a listed host.
type RemoteFiles struct {
	// Hosts Caddy may fetch from: a name (`s3.eu-west-1.amazonaws.com`),
	// a wildcard for any subdomain (`*.s3.amazonaws.com`), `*` for any
	// name (not an IP address), with `:port` when it is not the scheme's
	// default, or an IP address. `http://` before one allows plain http to
	// it (else https only). A host listed by its exact name or address may
	// be on a private network (`http://minio:9000`); one matched by a
	// wildcard must resolve to public addresses. Required.
	Hosts []string `json:"hosts,omitempty"`

	// URL prefixes of X-Accel-Redirect values that name a remote file
	// (an absolute `https://…` value is always one): after the prefix,
	// `<host>/<path>[?query]` (Zulip's `/internal/s3/`; https, or http for
	// a host listed with http://), `<scheme>/<host>/<path>` (Label
	// Studio's `/file_download/`) or a URL, percent-encoded or not (uMap's
	// `/proxy/`). Default: none.
	Prefixes []string `json:"prefixes,omitempty"`

	// Largest file sent, in bytes: a larger one is a 502 (or, when its
	// length was not announced, a cut connection). Default: 1 GiB.
	MaxSize int64 `json:"max_size,omitempty"`

	// Bounds connecting, waiting for the answer and each wait for more of
	// the body. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

const (
	defaultRemoteMaxSize = 1 << 30
	remoteMaxRedirects   = 3
)

// hostPattern is one entry of RemoteFiles.Hosts.
type hostPattern struct {
	http     bool       // plain http allowed
	host     string     // lower case: a name, "*", "*.suffix", or "" for addr
	addr     netip.Addr // an IP address entry
	port     string     // "" for the scheme's default
	wildcard bool
}

// parseHostPattern reads one hosts entry.
func parseHostPattern(s string) (hostPattern, error) {
	var p hostPattern
	rest := s
	if r, ok := cutPrefixFold(rest, "http://"); ok {
		p.http, rest = true, r
	} else if r, ok := cutPrefixFold(rest, "https://"); ok {
		rest = r
	}
	if rest == "" || strings.ContainsAny(rest, "/?#@ \\") {
		return p, fmt.Errorf("remote host %q: want a host name, *.domain or an IP address, with an optional :port and http:// (no path)", s)
	}
	host, port := rest, ""
	if h, pt, err := net.SplitHostPort(rest); err == nil {
		host, port = h, pt
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return p, fmt.Errorf("remote host %q: bad port %q", s, port)
		}
	} else if strings.Count(rest, ":") == 1 {
		return p, fmt.Errorf("remote host %q: %v", s, err)
	}
	if strings.HasPrefix(host, "*") && strings.HasSuffix(host, ".") {
		return p, fmt.Errorf("remote host %q: a wildcard is *.domain", s)
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	p.port = port
	if a, err := netip.ParseAddr(host); err == nil {
		p.addr = a.Unmap()
		return p, nil
	}
	host = strings.ToLower(host)
	switch {
	case host == "*":
		p.wildcard = true
	case strings.HasPrefix(host, "*."):
		p.wildcard = true
		if !validHostName(host[2:]) {
			return p, fmt.Errorf("remote host %q: %q is not a domain", s, host[2:])
		}
	case !validHostName(host):
		return p, fmt.Errorf("remote host %q: not a host name or IP address", s)
	}
	p.host = host
	return p, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// validHostName reports whether h is a DNS name: labels of letters,
// digits, '-' and '_'.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// matches reports whether the URL's scheme, host (lower case, no trailing
// dot) and port (given) fit p.
func (p hostPattern) matches(scheme, host, port string) bool {
	if scheme == "http" && !p.http {
		return false
	}
	want := p.port
	if want == "" {
		want = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	if port != want {
		return false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return p.addr.IsValid() && a.Unmap() == p.addr // addresses only by address
	}
	switch {
	case p.addr.IsValid():
		return false
	case p.host == "*":
		return true
	case p.wildcard:
		return strings.HasSuffix(host, p.host[1:])
	}
	return host == p.host
}

// remoteSource is a provisioned RemoteFiles.
type remoteSource struct {
	patterns  []hostPattern
	prefixes  []string
	maxSize   int64
	fetcher   *bucket.Fetcher
	transport *http.Transport
	logger    *zap.Logger
}

// newRemoteSource checks rf and builds its guarded transport.
func (h *DjangoFiles) newRemoteSource(rf *RemoteFiles) (*remoteSource, error) {
	if len(rf.Hosts) == 0 {
		return nil, errors.New("remote: list the hosts Caddy may fetch from")
	}
	rs := &remoteSource{maxSize: rf.MaxSize, logger: h.logger}
	if rs.maxSize == 0 {
		rs.maxSize = defaultRemoteMaxSize
	}
	if rs.maxSize < 0 {
		return nil, errors.New("remote: max_size must not be negative")
	}
	for _, s := range rf.Hosts {
		p, err := parseHostPattern(s)
		if err != nil {
			return nil, err
		}
		rs.patterns = append(rs.patterns, p)
	}
	for _, pr := range rf.Prefixes {
		n, err := normalizePrefix(pr, "")
		if err != nil {
			return nil, fmt.Errorf("remote: prefix: %v", err)
		}
		rs.prefixes = append(rs.prefixes, n)
	}
	timeout := time.Duration(rf.Timeout)
	if timeout <= 0 {
		timeout = bucket.DefaultTimeout
	}
	rs.transport = bucket.NewTransport(timeout)
	rs.transport.Proxy = nil // the guard must see the address really connected to
	rs.transport.ForceAttemptHTTP2 = true
	rs.transport.DialContext = rs.dial(&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second})
	rs.fetcher = &bucket.Fetcher{Transport: rs.transport, Timeout: timeout}
	return rs, nil
}

// errRefusedAddress is a connection the rules do not allow.
var errRefusedAddress = errors.New("refused: the host resolves to a loopback, private, link-local or other non-public address (list the host by its exact name or address to allow that)")

// dial connects to addr (host:port of a URL that matched a pattern),
// checking every address actually connected to: unless the host is
// listed by its exact name or address, only public addresses.
func (rs *remoteSource) dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		private := rs.listedExactly(strings.TrimSuffix(strings.ToLower(host), "."))
		guarded := *d
		guarded.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return errRefusedAddress
			}
			if !private && !publicAddr(ap.Addr()) {
				return errRefusedAddress
			}
			return nil
		}
		return guarded.DialContext(ctx, network, addr)
	}
}

// listedExactly reports whether host is listed by name or address, not
// through a wildcard.
func (rs *remoteSource) listedExactly(host string) bool {
	a, aerr := netip.ParseAddr(host)
	for _, p := range rs.patterns {
		if aerr == nil && p.addr.IsValid() && p.addr == a.Unmap() || !p.wildcard && !p.addr.IsValid() && p.host == host {
			return true
		}
	}
	return false
}

// nonPublic are the address ranges a wildcard host may not resolve to.
var nonPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// publicAddr reports whether a is a public unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// target reads an X-Accel-Redirect value: remote is false when the value
// is not of a remote shape (an absolute http(s) URL, or under one of the
// prefixes); err says why a remote value is refused.
func (rs *remoteSource) target(v string) (u *url.URL, remote bool, err error) {
	raw, ok := rs.rawURL(v)
	if !ok {
		return nil, false, nil
	}
	u, err = url.Parse(raw)
	if err != nil {
		return nil, true, fmt.Errorf("not a URL: %v", err)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.User != nil || u.Host == "" || u.Opaque != "" {
		return nil, true, errors.New("not a plain http(s) URL with a host")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme == "" { // <host>/<path>: http for a host listed with http://, else https
		if u.Scheme = "http"; !rs.allowed(u) {
			u.Scheme = "https"
		}
	}
	if !rs.allowed(u) {
		return nil, true, fmt.Errorf("%s://%s is not a listed host (remote …)", u.Scheme, u.Host)
	}
	return u, true, nil
}

// rawURL is the URL an X-Accel-Redirect value names, before parsing.
func (rs *remoteSource) rawURL(v string) (string, bool) {
	if isHTTPURL(v) {
		return v, true
	}
	for _, p := range rs.prefixes {
		rest, ok := strings.CutPrefix(v, p)
		if !ok {
			continue
		}
		if un, err := url.PathUnescape(rest); err == nil && isHTTPURL(un) && !isHTTPURL(rest) {
			rest = un // a percent-encoded URL (uMap)
		}
		if isHTTPURL(rest) {
			return rest, true
		}
		if r, ok := cutPrefixFold(rest, "http:/"); ok && !strings.HasPrefix(r, "/") {
			return "http://" + r, true // nginx merged the slashes
		}
		if r, ok := cutPrefixFold(rest, "https:/"); ok && !strings.HasPrefix(r, "/") {
			return "https://" + r, true
		}
		scheme, after, _ := strings.Cut(rest, "/")
		if s := strings.ToLower(scheme); s == "http" || s == "https" {
			return s + "://" + after, true // <scheme>/<host>/<path>
		}
		return "//" + rest, true // <host>/<path>
	}
	return "", false
}

func isHTTPURL(s string) bool {
	_, h := cutPrefixFold(s, "http://")
	_, hs := cutPrefixFold(s, "https://")
	return h || hs
}

// allowed reports whether u's scheme, host and port fit a listed pattern.
func (rs *remoteSource) allowed(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, p := range rs.patterns {
		if p.matches(u.Scheme, host, port) {
			return true
		}
	}
	return false
}

// errRedirectRefused is a redirect to another scheme, host or port.
var errRedirectRefused = errors.New("redirect to another host refused")

// errTooLarge is a remote file over max_size.
var errTooLarge = errors.New("larger than remote max_size")

// serve answers r with the file at u (the header fields already set on w
// are Django's and the safety ones), following redirects on the same
// origin only.
func (rs *remoteSource) serve(w http.ResponseWriter, r *http.Request, u *url.URL) error {
	obj, err := readRanged(r, func(hdr http.Header) (*bucket.Object, error) { return rs.fetch(r, u, hdr) })
	if err != nil {
		return rs.errorFor(u, err)
	}
	if n, err := strconv.ParseInt(obj.Header.Get("Content-Length"), 10, 64); err == nil && n > rs.maxSize {
		obj.Body.Close()
		return rs.errorFor(u, fmt.Errorf("%w: %d bytes", errTooLarge, n))
	}
	obj.Body = &limitedBody{ReadCloser: obj.Body, left: rs.maxSize}
	return sendObject(w, r, obj, func(err error) {
		rs.logger.Error("the remote file stopped arriving", zap.String("url", redactedURL(u)), zap.Error(err))
	})
}

// fetch reads u, following at most remoteMaxRedirects redirects to the
// same scheme, host and port.
func (rs *remoteSource) fetch(r *http.Request, u *url.URL, hdr http.Header) (*bucket.Object, error) {
	for range remoteMaxRedirects + 1 {
		obj, err := rs.fetcher.Fetch(r.Context(), r.Method, u, hdr)
		bucketRequests.WithLabelValues("remote", bucketOutcome(obj, err)).Inc()
		var e *bucket.Error
		if !errors.As(err, &e) || e.Location == nil {
			return obj, err
		}
		next := u.ResolveReference(e.Location)
		if !strings.EqualFold(next.Scheme, u.Scheme) || !strings.EqualFold(next.Host, u.Host) {
			return nil, fmt.Errorf("%w: %d to %s://%s", errRedirectRefused, e.StatusCode, next.Scheme, next.Host)
		}
		u = next
	}
	return nil, fmt.Errorf("more than %d redirects", remoteMaxRedirects)
}

// errorFor maps a failed fetch to the client's status: 404 for a missing
// file or a refused address (logged as a warning: Django named something
// the rules do not allow); 504 for a time-out; 502 for anything else,
// logged with the cause.
func (rs *remoteSource) errorFor(u *url.URL, err error) error {
	var e *bucket.Error
	msg := fmt.Errorf("remote %s: %w", redactedURL(u), err)
	switch {
	case errors.Is(err, errRefusedAddress):
		rs.logger.Warn("X-Accel-Redirect to a remote file refused", zap.String("url", redactedURL(u)), zap.Error(err))
		return caddyhttp.Error(http.StatusNotFound, msg)
	case errors.As(err, &e) && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone):
		return caddyhttp.Error(http.StatusNotFound, msg)
	case bucket.IsTimeout(err):
		return caddyhttp.Error(http.StatusGatewayTimeout, msg)
	}
	return caddyhttp.Error(http.StatusBadGateway, msg)
}

// redactedURL is u (else the value raw) without its query: a presigned
// URL's signature stays out of the log.
func redactedURL(u *url.URL, raw ...string) string {
	if u == nil {
		if len(raw) == 0 {
			return ""
		}
		s, _, _ := strings.Cut(raw[0], "?")
		return s
	}
	v := *u
	v.RawQuery, v.ForceQuery = "", false
	return v.String()
}

// limitedBody fails a read past left bytes.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.left -= int64(n); b.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// close releases the kept connections.
func (rs *remoteSource) close() {
	if rs != nil {
		rs.transport.CloseIdleConnections()
	}
}
