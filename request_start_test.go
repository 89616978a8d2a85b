package caddydjango

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestRequestStart: X-Request-Start is Caddy's receive time, a trusted
// proxy's value is kept, anyone else's replaced; with request_start off
// nothing is set and an untrusted value is still dropped.
func TestRequestStart(t *testing.T) {
	received := time.UnixMicro(1700000000123456)
	prefixes, err := parseTrustedProxies([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote, sent string
		off                bool
		want               string
	}{
		{"set", "203.0.113.5:1234", "", false, "t=1700000000123456"},
		{"client's value replaced", "203.0.113.5:1234", "t=1", false, "t=1700000000123456"},
		{"trusted proxy's value kept", "10.1.2.3:1234", "t=1699999999000000", false, "t=1699999999000000"},
		{"trusted proxy without one", "10.1.2.3:1234", "", false, "t=1700000000123456"},
		{"off", "203.0.113.5:1234", "", true, ""},
		{"off drops a client's value", "203.0.113.5:1234", "t=1", true, ""},
		{"off keeps a trusted proxy's value", "10.1.2.3:1234", "t=5", true, "t=5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &DjangoFiles{trustedProxies: prefixes, DisableRequestStart: tc.off}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.sent != "" {
				r.Header.Set(requestStartHeader, tc.sent)
			}
			r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{"start_time": received}))
			h.sanitizeForwarding(r)
			h.setRequestStart(r)
			if got := r.Header.Get(requestStartHeader); got != tc.want {
				t.Errorf("X-Request-Start %q, want %q", got, tc.want)
			}
		})
	}
}
