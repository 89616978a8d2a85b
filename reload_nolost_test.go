package caddydjango

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
	"github.com/quic-go/quic-go/http3"
)

// End-to-end tests of config reloads that clients never notice: sites whose
// listener has the django_handoff wrapper lose no connection and no request
// across `POST /load`, while a plain Caddy site in the same Caddy, under the
// same load, shows what Caddy alone loses (logged, not asserted).

// handoffLine is the one documented line (docs/caddyfile.md) that turns the
// handoff on, for the listener at port only.
func handoffLine(port int) string {
	return fmt.Sprintf("\tservers :%d {\n\t\tlistener_wrappers {\n\t\t\tdjango_handoff\n\t\t\ttls\n\t\t\tdjango_handoff\n\t\t}\n\t}\n", port)
}

// withGlobal inserts options into a Caddyfile's global block (after
// persist_config, which globalBlock writes).
func withGlobal(caddyfile, options string) string {
	const at = "\tpersist_config off\n"
	if !strings.Contains(caddyfile, at) {
		panic("no global block to extend")
	}
	return strings.Replace(caddyfile, at, at+options, 1)
}

// tally counts the requests of one site and its failures.
type tally struct {
	total, failed atomic.Int64
	mu            sync.Mutex
	errors        map[string]int
}

func (t *tally) each(status int, err error, _ time.Duration) {
	t.total.Add(1)
	if err == nil && status == http.StatusOK {
		return
	}
	t.failed.Add(1)
	what := fmt.Sprintf("status %d", status)
	if err != nil {
		what = err.Error()
		if i := strings.LastIndex(what, ": "); i >= 0 {
			what = what[i+2:]
		}
	}
	t.mu.Lock()
	if t.errors == nil {
		t.errors = map[string]int{}
	}
	t.errors[what]++
	t.mu.Unlock()
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("%d of %d requests failed %v", t.failed.Load(), t.total.Load(), t.errors)
}

// reloadsUnderLoad runs clients against ours and plain, and loads config(i)
// for i = 1..reloads, each once both sites answered 20 more requests and
// after the previous one is served (its X-Rev header seen on ours).
func reloadsUnderLoad(t *testing.T, c *caddyProc, clients testkit.Clients, ours, plain string,
	reloads int, config func(rev int) string, probe func(rev int) bool) (o, p *tally) {
	t.Helper()
	o, p = &tally{}, &tally{}
	stopO := clients.Run(ours, 8, o.each)
	stopP := clients.Run(plain, 8, p.each)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopO()
			stopP()
		}
	}
	defer stop()
	for rev := 1; rev <= reloads; rev++ {
		no, np := o.total.Load()+20, p.total.Load()+20
		waitFor(t, 60*time.Second, func() bool { return o.total.Load() >= no && p.total.Load() >= np }, "requests before a reload")
		if err := c.reload(config(rev)); err != nil {
			t.Fatalf("reload %d: %v", rev, err)
		}
		waitFor(t, 30*time.Second, func() bool { return probe(rev) }, fmt.Sprintf("config %d served", rev))
	}
	no, np := o.total.Load()+50, p.total.Load()+50
	waitFor(t, 60*time.Second, func() bool { return o.total.Load() >= no && p.total.Load() >= np }, "requests after the reloads")
	stop()
	return o, p
}

// revSeen reports whether a GET of url (new connection) answers with
// X-Rev: rev.
func revSeen(client *http.Client, url string, rev int) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.Header.Get("X-Rev") == fmt.Sprint(rev)
}

// TestReloadLosesNothing: 10 reloads under 8 clients with a new connection
// per request, then 10 with kept-alive connections (POST, which Go's client
// never retries on a reused connection): not one failed request through a
// django_files site with the handoff.
func TestReloadLosesNothing(t *testing.T) {
	t.Parallel()
	pport := freePort(t)
	var s *djangoSite
	config := func(rev int) string {
		site := fmt.Sprintf("header X-Rev %d\n\tdjango_files", rev)
		cf := s.config(s.admin, 2, "", "", site) +
			fmt.Sprintf("\n:%d {\n\theader X-Rev %d\n\trespond \"plain\"\n}\n", pport, rev)
		return withGlobal(cf, handoffLine(s.hport))
	}
	s = launchDjangoSite(t, newDjangoProject(t), func(site *djangoSite, admin string) string {
		s = site
		return config(0)
	})
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	plain := fmt.Sprintf("http://127.0.0.1:%d/", pport)

	rev := 0
	for _, tc := range []struct {
		name    string
		clients testkit.Clients
		path    string
	}{
		{"new connection per request", testkit.Clients{}, "/hello/"},
		{"kept-alive connections", testkit.Clients{KeepAlive: true, Method: http.MethodPost, Body: []byte("x=1")}, "/echo-size/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := rev
			o, p := reloadsUnderLoad(t, s.caddyProc, tc.clients, s.url(tc.path), plain, 10,
				func(r int) string { rev = base + r; return config(rev) },
				func(r int) bool { return revSeen(probe, s.url("/hello/"), base+r) })
			if o.failed.Load() != 0 {
				t.Errorf("django_files with django_handoff: %v", o)
			} else {
				t.Logf("django_files with django_handoff: %v", o)
			}
			t.Logf("plain Caddy site, same reloads: %v", p)
		})
	}
}

// TestReloadLosesNothingTLS: the same over TLS with certificates from Caddy's
// internal issuer, HTTP/1.1 and HTTP/2, on `respond` sites: the handoff
// happens before the TLS handshake, so a new connection's ClientHello is
// read by the newest server.
func TestReloadLosesNothingTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ours, plain, httpPort := freePort(t), freePort(t), freePort(t)
	var admin string
	config := func(rev int) string {
		global := fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n\thttp_port %d\n\tauto_https disable_redirects\n\tskip_install_trust\n}\n", admin, httpPort)
		site := func(port int, body string) string {
			return fmt.Sprintf("https://localhost:%d {\n\ttls internal\n\theader X-Rev %d\n\trespond %q\n}\n", port, rev, body)
		}
		return withGlobal(global, handoffLine(ours)) + site(ours, "ours") + site(plain, "plain")
	}
	c := startCaddy(t, dir, func(a string) string { admin = a; return config(0) }, "HOME="+dir, "XDG_DATA_HOME="+dir)
	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	oursURL, plainURL := fmt.Sprintf("https://localhost:%d/", ours), fmt.Sprintf("https://localhost:%d/", plain)
	waitFor(t, 30*time.Second, func() bool { return revSeen(probe, oursURL, 0) && revSeen(probe, plainURL, 0) }, "both TLS sites")

	post := []byte("x=1")
	rev := 0
	for _, tc := range []struct {
		name    string
		clients testkit.Clients
	}{
		{"HTTP/1.1 new connection per request", testkit.Clients{}},
		{"HTTP/2 new connection per request", testkit.Clients{HTTP2: true}},
		{"HTTP/2 kept-alive connections", testkit.Clients{HTTP2: true, KeepAlive: true, Method: http.MethodPost, Body: post}},
		// An old server closes its idle HTTP/1.1 connections when it shuts
		// down; the wrapper after `tls` hands each, TLS session and all, to
		// the newest server (a POST sent on one as it closes would fail:
		// Go's client never retries it).
		{"HTTP/1.1 kept-alive connections", testkit.Clients{KeepAlive: true, Method: http.MethodPost, Body: post}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := rev
			o, p := reloadsUnderLoad(t, c, tc.clients, oursURL, plainURL, 10,
				func(r int) string { rev = base + r; return config(rev) },
				func(r int) bool { return revSeen(probe, oursURL, base+r) })
			if o.failed.Load() != 0 {
				t.Errorf("TLS site with django_handoff: %v", o)
			} else {
				t.Logf("TLS site with django_handoff: %v", o)
			}
			t.Logf("plain Caddy TLS site, same reloads: %v", p)
		})
	}

	// HTTP/3 (UDP, which the wrapper does not touch) still answers, from
	// the last config.
	h3 := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer h3.Close()
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: h3}).Get(oursURL)
	if err != nil {
		t.Fatalf("HTTP/3 after the reloads: %v", err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 3 || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Rev") != fmt.Sprint(rev) {
		t.Errorf("HTTP/3 after the reloads: %s %d X-Rev %q, want HTTP/3 200 X-Rev %d", resp.Proto, resp.StatusCode, resp.Header.Get("X-Rev"), rev)
	}
}

// TestHandoffSIGTERMIsGraceful: with the handoff, after reloads, SIGTERM
// still lets requests in flight finish, Caddy exits cleanly, and the address
// is closed (no socket kept listening).
func TestHandoffSIGTERMIsGraceful(t *testing.T) {
	t.Parallel()
	var s *djangoSite
	config := func(rev int) string {
		return withGlobal(s.config(s.admin, 3, "", "", fmt.Sprintf("header X-Rev %d\n\tdjango_files", rev)), handoffLine(s.hport))
	}
	s = launchDjangoSite(t, newDjangoProject(t), func(site *djangoSite, admin string) string {
		s = site
		return config(0)
	})
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	for rev := 1; rev <= 2; rev++ {
		if err := s.reload(config(rev)); err != nil {
			t.Fatal(err)
		}
	}
	results := make(chan string, 3)
	for range 3 {
		go func() {
			code, body := httpGet(s.url("/slow/?seconds=2"))
			results <- fmt.Sprint(code, " ", body)
		}()
	}
	waitFor(t, 10*time.Second, func() bool { return countSlowInFlight(s) >= 3 }, "three slow requests in flight")
	if state := s.signalAndWait(syscall.SIGTERM, 60*time.Second); !state.Success() {
		t.Errorf("caddy exit %v", state)
	}
	for range 3 {
		if r := <-results; r != "200 slept 2" {
			t.Errorf("in-flight request lost on SIGTERM: %s", r)
		}
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.hport), 5*time.Second); err == nil {
		c.Close()
		t.Error("the site's address still accepts connections after Caddy exited")
	}
}

// TestHandedOverTLSConnectionKeepsItsTLS: a kept-alive HTTPS connection that
// an old server closed at a reload and the handoff gave to the new server
// still counts as TLS there (the scheme Caddy, and so Django behind
// django_files' X-Forwarded-Proto, sees: a lost r.TLS would make it "http").
func TestHandedOverTLSConnectionKeepsItsTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port, httpPort := freePort(t), freePort(t)
	var admin string
	config := func(rev int) string {
		global := fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n\thttp_port %d\n\tauto_https disable_redirects\n\tskip_install_trust\n}\n", admin, httpPort)
		return withGlobal(global, handoffLine(port)) +
			fmt.Sprintf("https://localhost:%d {\n\ttls internal\n\theader X-Rev %d\n\trespond \"{http.request.scheme}\"\n}\n", port, rev)
	}
	c := startCaddy(t, dir, func(a string) string { admin = a; return config(0) }, "HOME="+dir, "XDG_DATA_HOME="+dir)
	url := fmt.Sprintf("https://localhost:%d/", port)
	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	waitFor(t, 30*time.Second, func() bool { return revSeen(probe, url, 0) }, "the TLS site")

	// one kept-alive HTTP/1.1 connection
	kept := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1, IdleConnTimeout: time.Minute, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func() (rev, body string, reused bool) {
		var r bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { r = info.Reused }})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := kept.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("X-Rev"), string(b), r
	}
	if rev, body, _ := get(); rev != "0" || body != "https" {
		t.Fatalf("before the reload: rev %q, scheme %q", rev, body)
	}
	if err := c.reload(config(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return revSeen(probe, url, 1) }, "the new config serving")
	rev, body, reused := get()
	if !reused {
		t.Fatalf("the kept-alive connection was not reused after the reload (rev %q): the handoff did not keep it", rev)
	}
	if rev != "1" || body != "https" {
		t.Errorf("on the handed-over connection: rev %q, scheme %q; want the new config and https", rev, body)
	}
}
