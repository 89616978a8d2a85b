package caddydjango

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func TestHandoffCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		in, err string
		wait    time.Duration
	}{
		{in: "django_handoff"},
		{in: "django_handoff {\n\tfirst_byte_wait 3s\n}", wait: 3 * time.Second},
		{in: "django_handoff tls", err: "wrong argument count"},
		{in: "django_handoff {\n\tfirst_byte_wait 0s\n}", err: "positive duration"},
		{in: "django_handoff {\n\tfirst_byte_wait\n}", err: "wrong argument count"},
		{in: "django_handoff {\n\tfirst_byte_wait 1s 2s\n}", err: "wrong argument count"},
		{in: "django_handoff {\n\tdelay 1s\n}", err: `unknown option "delay"`},
	} {
		var h Handoff
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || time.Duration(h.FirstByteWait) != tc.wait {
			t.Errorf("%q: %v, first_byte_wait %v", tc.in, err, time.Duration(h.FirstByteWait))
		}
	}
}

// After `tls` the wrapper shares the TLS listener's connections among the
// configs; after the TLS placeholder of a server without TLS (the same
// `django_handoff tls django_handoff` line) it passes its own listener through.
func TestHandoffAfterTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h := &Handoff{FirstByteWait: caddy.Duration(time.Second), logger: zap.NewNop()}
	before := h.WrapListener(ln)
	if before == ln {
		t.Fatal("did not wrap a TCP listener")
	}
	defer before.Close()
	if got := h.WrapListener(before); got != before {
		t.Fatalf("wrapped its own listener again: %T", got)
	}
	after := h.WrapListener(tls.NewListener(before, &tls.Config{}))
	hl, ok := after.(*handoffListener)
	if !ok || !hl.sock.tls {
		t.Fatalf("after tls: got %T, want a listener of TLS connections", after)
	}
	_ = after.Close()
}

func TestHandoffClassify(t *testing.T) {
	for in, want := range map[string]int32{
		"GET / HTTP/1.1\r\n": kindHTTP1,
		"POST /x":            kindHTTP1,
		"PRI * HTTP/2.0\r\n": kindOther,
		"\x16\x03\x01":       kindOther,
	} {
		if got := classify([]byte(in)); got != want {
			t.Errorf("classify(%q) = %d, want %d", in, got, want)
		}
	}
}

// A response that ends its connection's reuse is never handed over: a
// protocol switch, Connection: close in its head (any case, any token
// position), not in its body, or HTTP/1.0 without Connection: keep-alive.
func TestHandoffClosesConnection(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
	for in, want := range map[string]bool{
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n": true,
		"HTTP/1.0 101 Switching Protocols\r\n\r\n":                       true,
		head + "Connection: close\r\n\r\nok":                             true,
		head + "connection: Close\r\n\r\nok":                             true,
		head + "Connection: x-foo, close\r\n\r\nok":                      true,
		"HTTP/1.1 200 OK\r\nConnection: close\r\nServer: Caddy\r\n\r\n":  true,
		head + "\r\nok": false,
		head + "Connection: keep-alive\r\n\r\nok":  false,
		head + "Connection: closed\r\n\r\nok":      false,
		head + "\r\nConnection: close\r\n\r\n":     false, // in the body
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n": false, // the head goes on in a later write
		// HTTP/1.0: reused only with Connection: keep-alive
		"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nok":                           true,
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok":        false,
		"HTTP/1.0 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 2\r\n\r\nok": true,
		"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n":                                        true, // not yet seen
	} {
		if got := closesConnection([]byte(in)); got != want {
			t.Errorf("closesConnection(%q) = %v, want %v", in, got, want)
		}
	}
}
