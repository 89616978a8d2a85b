package caddydjango

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Tests of forwarding-header cleanup, in process: what Django sees as the
// client's address and the proxy headers an untrusted client cannot set
// (end to end: TestFilesForwardedHeaders).

func TestParseTrustedProxies(t *testing.T) {
	got, err := parseTrustedProxies([]string{"10.1.2.3/8", "192.168.1.1", "::1", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fd00::/8"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for bad, msg := range map[string]string{
		"10.0.0.0/33": `trusted_proxies: "10.0.0.0/33" is not an IP range`,
		"proxy.local": `trusted_proxies: "proxy.local" is not an IP address`,
	} {
		if _, err := parseTrustedProxies([]string{bad}); err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("%s: got %v, want %q...", bad, err, msg)
		}
	}
}

// forwardedRequest runs sanitizeForwarding for a request from remote with
// the given headers; vars are Caddy's request variables (the server's own
// trusted_proxies decisions).
func forwardedRequest(t *testing.T, trusted []string, remote string, hdr http.Header, vars map[string]any) http.Header {
	t.Helper()
	prefixes, err := parseTrustedProxies(trusted)
	if err != nil {
		t.Fatal(err)
	}
	h := &DjangoFiles{trustedProxies: prefixes}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	r.Header = hdr
	if vars != nil {
		r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, vars))
	}
	h.sanitizeForwarding(r)
	return r.Header
}

func TestSanitizeForwarding(t *testing.T) {
	spoofed := func() http.Header {
		return http.Header{
			"X-Forwarded-For":   {"1.1.1.1, 10.0.0.7"},
			"X-Real-Ip":         {"6.6.6.6"},
			"Forwarded":         {"for=6.6.6.6;proto=https"},
			"X-Forwarded-Port":  {"443"},
			"X-Forwarded-Ssl":   {"on"},
			"X-Url-Scheme":      {"https"},
			"True-Client-Ip":    {"6.6.6.6"},
			"X-Forwarded-Proto": {"https"},
		}
	}
	for _, tc := range []struct {
		name    string
		trusted []string
		remote  string
		hdr     http.Header
		vars    map[string]any
		realIP  string
		kept    bool // Forwarded & co. pass through
	}{
		{"untrusted client", nil, "203.0.113.9:5000", spoofed(), nil, "203.0.113.9", false},
		{"untrusted, not in the handler's ranges", []string{"10.0.0.0/8"}, "203.0.113.9:5000", spoofed(), nil, "203.0.113.9", false},
		{"trusted proxy's X-Real-IP kept", []string{"10.0.0.0/8"}, "10.0.0.1:5000", spoofed(), nil, "6.6.6.6", true},
		{"trusted proxy without X-Real-IP: right-most untrusted X-Forwarded-For", []string{"10.0.0.0/8"}, "10.0.0.1:5000",
			http.Header{"X-Forwarded-For": {"1.1.1.1, 2.2.2.2", "10.0.0.7"}}, nil, "2.2.2.2", true},
		{"trusted proxy, X-Forwarded-For all trusted", []string{"10.0.0.0/8"}, "10.0.0.1:5000",
			http.Header{"X-Forwarded-For": {"10.0.0.7"}}, nil, "10.0.0.7", true},
		{"trusted proxy, garbage in X-Forwarded-For stops the walk", []string{"10.0.0.0/8"}, "10.0.0.1:5000",
			http.Header{"X-Forwarded-For": {"1.1.1.1, junk, 10.0.0.7"}}, nil, "10.0.0.7", true},
		{"server's trusted_proxies: Caddy's client_ip", nil, "10.0.0.1:5000", http.Header{"X-Forwarded-For": {"4.4.4.4"}},
			map[string]any{caddyhttp.TrustedProxyVarKey: true, caddyhttp.ClientIPVarKey: "4.4.4.4"}, "4.4.4.4", true},
		{"IPv4-mapped proxy address", []string{"10.0.0.0/8"}, "[::ffff:10.0.0.1]:5000", spoofed(), nil, "6.6.6.6", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hadForwarded := tc.hdr.Get("Forwarded") != ""
			got := forwardedRequest(t, tc.trusted, tc.remote, tc.hdr, tc.vars)
			if v := got.Values("X-Real-Ip"); len(v) != 1 || v[0] != tc.realIP {
				t.Errorf("X-Real-IP %q, want %q", v, tc.realIP)
			}
			if !hadForwarded {
				return
			}
			for _, f := range forwardingHeaders {
				if _, present := got[f]; present != (tc.kept && tc.hdr.Get(f) != "") {
					t.Errorf("%s present=%v, want kept=%v", f, present, tc.kept)
				}
			}
		})
	}
}

func TestSanitizeForwardingUnparsableRemote(t *testing.T) {
	got := forwardedRequest(t, nil, "@", http.Header{"X-Real-Ip": {"6.6.6.6"}}, nil)
	if _, ok := got["X-Real-Ip"]; ok {
		t.Errorf("without a client address X-Real-IP must be removed, got %q", got.Values("X-Real-Ip"))
	}
}
