//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// handoffOption is the global option that puts the plugin's django_handoff
// listener wrapper on the listener at 127.0.0.1:port (the sites `bind
// 127.0.0.1`; config reloads lose no connection there; §4 compares it with
// the plain Caddy controls).
func handoffOption(port int) string {
	return handoffWrappers(port, "django_handoff", "tls", "django_handoff")
}

// handoffWrappers is the global option that gives the listener at
// 127.0.0.1:port these listener wrappers.
func handoffWrappers(port int, wrappers ...string) string {
	return fmt.Sprintf("\tservers 127.0.0.1:%d {\n\t\tlistener_wrappers {\n\t\t\t%s\n\t\t}\n\t}\n",
		port, strings.Join(wrappers, "\n\t\t\t"))
}

// handoffCaddy is one Caddy of §8: `respond "ok"` on an HTTP site and two
// HTTPS sites; with wrapped, the HTTP site and the first HTTPS site have the
// wrapper as documented (before and after `tls`), the second HTTPS site has
// it before `tls` only.
type handoffCaddy struct {
	admin, httpPort, http, https, httpsBefore int
	wrapped                                   bool
	p                                         *proc
}

func newHandoffCaddy(wrapped bool) *handoffCaddy {
	return &handoffCaddy{admin: freePort(), httpPort: freePort(), http: freePort(), https: freePort(), httpsBefore: freePort(), wrapped: wrapped}
}

func (h *handoffCaddy) caddyfile() string {
	site := func(scheme string, port int) string {
		tls := ""
		if scheme == "https" {
			tls = "\ttls internal\n"
		}
		return fmt.Sprintf("%s://127.0.0.1:%d {\n\tbind 127.0.0.1\n%s\trespond \"ok\"\n}\n", scheme, port, tls)
	}
	global := fmt.Sprintf("\thttp_port %d\n\tauto_https disable_redirects\n\tskip_install_trust\n", h.httpPort)
	if h.wrapped {
		global += handoffOption(h.http) + handoffOption(h.https) + handoffWrappers(h.httpsBefore, "django_handoff", "tls")
	}
	return globalOptions(h.admin, global) + site("http", h.http) + site("https", h.https) + site("https", h.httpsBefore)
}

func (h *handoffCaddy) url(scheme string, port int) string {
	return fmt.Sprintf("%s://127.0.0.1:%d/", scheme, port)
}

// start runs this Caddy (its data in dir) and waits until its sites answer.
func (h *handoffCaddy) start(b *bench, dir string) error {
	cf := filepath.Join(dir, "Caddyfile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(cf, []byte(h.caddyfile()), 0o644); err != nil {
		return err
	}
	env := testkit.SetEnv(testkit.SetEnv(os.Environ(), "HOME", dir), "XDG_DATA_HOME", filepath.Join(dir, "data"))
	p, err := b.ps.spawn(filepath.Base(dir), dir, env, b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	if err != nil {
		return err
	}
	h.p = p
	for _, u := range []string{h.url("http", h.http), h.url("https", h.https), h.url("https", h.httpsBefore)} {
		if err := waitHTTP(u, 60*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// sectionHandoff measures what the django_handoff listener wrapper costs:
// two Caddys built from this tree serve the same `respond "ok"` sites, one
// with the wrapper and one without, and each pair of sites is loaded in
// alternating rounds, kept-alive and with a new connection per request
// (`Connection: close`), with each Caddy's CPU time per request.
func (b *bench) sectionHandoff() {
	m := b.sectionHeader("8. django_handoff throughput (req/s of `respond` sites, a Caddy with the wrapper against one without)")
	// BENCH_HANDOFF_AA=1: neither Caddy has the wrapper, to see how far two
	// identical Caddys differ on this machine (the noise floor of the ratios).
	aa := os.Getenv("BENCH_HANDOFF_AA") == "1"
	ours, plain := newHandoffCaddy(!aa), newHandoffCaddy(false)
	if aa {
		b.printf("**A/A control (BENCH_HANDOFF_AA=1): the \"with it\" Caddy has no wrapper either.**\n\n")
	}
	err := ours.start(b, filepath.Join(b.work, "caddy-handoff"))
	if err == nil {
		err = plain.start(b, filepath.Join(b.work, "caddy-plain"))
	}
	want := func(r checkResult) string {
		if r.status != 200 || r.size != 2 {
			return fmt.Sprintf("status %d, %d bytes; want 200, 2 bytes", r.status, r.size)
		}
		return ""
	}
	type row struct {
		name, what string
		ours, base *target
	}
	pair := func(name, what, scheme string, port func(*handoffCaddy) int, closeConn bool) row {
		var h map[string]string
		if closeConn {
			h = map[string]string{"Connection": "close"}
		}
		r := row{name: name, what: what,
			ours: &target{name: name + " (wrapper)", url: ours.url(scheme, port(ours)), headers: h, want: want},
			base: &target{name: name + " (plain)", url: plain.url(scheme, port(plain)), headers: h, want: want}}
		if err != nil {
			r.ours.na, r.base.na = "failed: "+err.Error(), "failed: "+err.Error()
		} else {
			r.ours.cpuPID, r.base.cpuPID = ours.p.pid(), plain.p.pid()
		}
		return r
	}
	httpPort := func(h *handoffCaddy) int { return h.http }
	httpsPort := func(h *handoffCaddy) int { return h.https }
	beforePort := func(h *handoffCaddy) int { return h.httpsBefore }
	const documented = "`django_handoff tls django_handoff` (documented)"
	rows := []row{
		pair("HTTP kept-alive", documented, "http", httpPort, false),
		pair("HTTP new connection per request", documented, "http", httpPort, true),
		pair("HTTPS kept-alive", documented, "https", httpsPort, false),
		pair("HTTPS kept-alive, before tls only", "`django_handoff tls`", "https", beforePort, false),
		pair("HTTPS new connection per request", documented, "https", httpsPort, true),
	}
	for i := range rows {
		if aa {
			rows[i].what = "none (A/A control)"
		}
	}
	for _, r := range rows {
		b.measure([]*target{r.ours, r.base}, b.rounds, 32, b.dur, "")
	}
	share := ""
	if !aa && err == nil {
		share = b.handoffShare(ours, rows[2].ours.url)
	}
	for _, h := range []*handoffCaddy{ours, plain} {
		if h.p != nil {
			b.ps.stop(h.p, 10*time.Second)
		}
	}
	b.printf("Two Caddys built from this tree serve the same sites, `respond \"ok\"`, HTTPS with `tls internal`; in one, the sites' listeners have the wrapper (`servers 127.0.0.1:PORT { listener_wrappers { … } }`). \"New connection per request\" sends `Connection: close` (wrk reconnects after each answer; over HTTPS with a full handshake). CPU is each Caddy's own time per request. Reproduce this section alone: `BENCH_SECTIONS=handoff BENCH_ROUNDS=10 BENCH_DURATION=5s bench/run.sh`.\n\n")
	b.printf("| connections | wrapper | req/s with it | req/s without it | ratio | CPU per request with / without |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		s, _, _ := ratio(r.ours, r.base)
		b.printf("| %s | %s | %s | %s | %s | %s / %s (%s) |\n", r.name, r.what, r.ours.cell(reqs), r.base.cell(reqs), s,
			cpuMicros(r.ours), cpuMicros(r.base), cpuRatio(r.ours, r.base))
		b.wantRatio("8", "django_handoff / plain, "+r.name, r.ours, r.base, 0.98, "≥ 0.98×")
	}
	if share != "" {
		b.printf("\n%s\n", share)
	}
	b.sectionFooter(m)
}

// handoffShare takes a CPU profile of h (the Caddy with the wrapper) while
// wrk loads url (kept-alive HTTPS) and tells what share of Caddy's CPU the
// wrapper's own code took: the samples with a plugin function on their
// stack and none of crypto/tls or the poller below it (the socket reads and
// writes the wrapper passes on, and the wrapper before `tls`, whose calls a
// plain Caddy makes too). The patterns are anchored: pprof matches them
// against more than function names (an unanchored caddy-django matched
// every sample: the binary lives in a directory named caddy-django-bench.*).
func (b *bench) handoffShare(h *handoffCaddy, url string) string {
	path := filepath.Join(b.work, "pprof-handoff-https.pb.gz")
	secs := max(5, int(b.dur.Seconds()))
	if err := b.loadProfile(fmt.Sprintf("http://127.0.0.1:%d", h.admin), path, secs, url, 32, nil, ""); err != nil {
		return "The wrapper's share of Caddy's CPU: profile failed: " + err.Error()
	}
	out := cmdOut("go", "tool", "pprof", "-top", "-nodefraction=0", "-nodecount=100000", "-focus=^github\\.com/caddy-django/caddy-django\\.",
		"-ignore=^crypto/tls\\.|^internal/poll\\.", b.caddyBin, path)
	m := regexp.MustCompile(`Showing nodes accounting for \S+, ([0-9.]+)% of (\S+) total`).FindStringSubmatch(out)
	if m == nil {
		return "The wrapper's share of Caddy's CPU: no answer from go tool pprof: " + out
	}
	return fmt.Sprintf("**The wrapper's own code took %s%% of the wrapped Caddy's CPU** during kept-alive HTTPS (a %ds CPU profile, %s of samples, taken after the rounds: samples with a plugin function on their stack and no crypto/tls or poller function below it; %s).", m[1], secs, m[2], path)
}
