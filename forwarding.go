package caddydjango

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// forwardingHeaders are request fields that apps (Django settings such as
// SECURE_PROXY_SSL_HEADER or USE_X_FORWARDED_PORT, django-ipware...) may
// read as set by a proxy. reverse_proxy rewrites X-Forwarded-For/Proto/Host;
// these others are removed when the client is not a trusted proxy.
var forwardingHeaders = []string{
	"Forwarded", "X-Forwarded-Port", "X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Url-Scheme",
	"Front-End-Https", "X-Client-Ip", "Client-Ip", "X-Cluster-Client-Ip", "True-Client-Ip",
	requestStartHeader,
}

// provisionTrustedProxies parses trusted_proxies.
func (h *DjangoFiles) provisionTrustedProxies(caddy.Context) error {
	var err error
	h.trustedProxies, err = parseTrustedProxies(h.TrustedProxies)
	return err
}

// parseTrustedProxies parses IP ranges (CIDR) and single addresses.
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, str := range list {
		if strings.Contains(str, "/") {
			p, err := netip.ParsePrefix(str)
			if err != nil {
				return nil, fmt.Errorf("trusted_proxies: %q is not an IP range: %v", str, err)
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(str)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is not an IP address: %v", str, err)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
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
