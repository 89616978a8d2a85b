//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// --- § 10 production guards: max_memory and timeout ----------------------------

// guardsCaddyfile is a Caddy with the django app (one Gunicorn, workers,
// gunicornExtra in its entry) and a django_files site per entry of sites
// (port → extra django_files lines).
func (b *bench) guardsCaddyfile(admin, bind, workers int, gunicornExtra string, sites map[int]string, extraSites string) string {
	django := fmt.Sprintf(`	django {
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command /usr/bin/gunicorn
			bind 127.0.0.1:%d
			workers %d
			%s
		}
	}
`, b.proj.Root, bind, workers, gunicornExtra)
	out := globalOptions(admin, django) + extraSites
	for port, extra := range sites {
		out += fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files {\n\t\t%s\n\t}\n}\n", port, extra)
	}
	return out
}

// startGuardsCaddy writes the Caddyfile cf and runs Caddy on it until the
// site on port answers /hello/.
func (b *bench) startGuardsCaddy(name, cf string, port int) (*proc, error) {
	path := filepath.Join(b.work, name+".Caddyfile")
	if err := os.WriteFile(path, []byte(cf), 0o644); err != nil {
		return nil, err
	}
	p, err := b.ps.spawn(name, b.proj.Root, b.proj.env, b.caddyBin, "run", "--config", path, "--adapter", "caddyfile")
	if err == nil {
		err = waitHTTP(b.url(port, "/hello/"), 90*time.Second)
	}
	if err != nil && p != nil {
		b.ps.stop(p, 60*time.Second)
	}
	return p, err
}

// recyclesOf reads the recycles of the app server named gunicorn from the
// admin API at admin.
func recyclesOf(admin int) (int, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/django/processes", admin))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var list []struct {
		Name     string `json:"name"`
		Recycles int    `json:"recycles"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, err
	}
	for _, s := range list {
		if s.Name == "gunicorn" {
			return s.Recycles, nil
		}
	}
	return 0, fmt.Errorf("no gunicorn in /django/processes")
}

// guardRecycles is § 10's second measure: memory recycles under load.
const guardRecycles = 20

func (b *bench) sectionGuards() {
	m := b.sectionHeader(fmt.Sprintf("11. Production guards: the cost of `max_memory` and `timeout` on `/hello/`; failed requests during %d memory recycles", guardRecycles))
	want := func(r checkResult) string {
		if r.status != 200 {
			return fmt.Sprintf("status %d", r.status)
		}
		return ""
	}
	// A: no guard (two sites: plain, and timeout only; and the same two in
	// front of a trivial upstream, a `respond` site, where Caddy's own cost
	// decides the throughput); B: the Gunicorn with max_memory (checked
	// every 2 s, never reached) behind timeout + recycle
	aAdmin, aBind, plain, timed := freePort(), freePort(), freePort(), freePort()
	fast, fastPlain, fastTimed := freePort(), freePort(), freePort()
	bAdmin, bBind, guarded := freePort(), freePort(), freePort()
	ta := &target{name: "django_files, no guard", url: b.url(plain, "/hello/"), want: want}
	tt := &target{name: "django_files, timeout 30s", url: b.url(timed, "/hello/"), want: want}
	tg := &target{name: "max_memory + timeout", url: b.url(guarded, "/hello/"), want: want}
	fa := &target{name: "respond via django_files", url: b.url(fastPlain, "/hello/"), want: want}
	ft := &target{name: "respond via df, timeout", url: b.url(fastTimed, "/hello/"), want: want}
	respond := fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\trespond \"hello\"\n}\n", fast)
	up := fmt.Sprintf("upstream 127.0.0.1:%d\n\t\tupstream_keepalive 10s", fast)
	pa, err := b.startGuardsCaddy("caddy-guards-off", b.guardsCaddyfile(aAdmin, aBind, 3, "",
		map[int]string{plain: "", timed: "timeout 30s", fastPlain: up, fastTimed: up + "\n\t\ttimeout 30s"}, respond), plain)
	if err != nil {
		for _, t := range []*target{ta, tt, fa, ft} {
			t.na = "failed: " + err.Error()
		}
	} else {
		for _, t := range []*target{ta, tt, fa, ft} {
			t.cpuPID = pa.pid()
		}
	}
	pb, err := b.startGuardsCaddy("caddy-guards-on", b.guardsCaddyfile(bAdmin, bBind, 3, "max_memory 1GiB",
		map[int]string{guarded: "timeout 30s\n\t\ton_timeout recycle"}, ""), guarded)
	if err != nil {
		tg.na = "failed: " + err.Error()
	} else {
		tg.cpuPID = pb.pid()
	}
	b.measure([]*target{tg, ta, tt}, b.rounds, 32, b.dur, "")
	b.measure([]*target{ft, fa}, b.rounds, 32, b.dur, "")
	for _, p := range []*proc{pa, pb} {
		if p != nil {
			b.ps.stop(p, 60*time.Second)
		}
	}
	b.printf("Two Caddys with the plugin, each with its own Gunicorn (3 sync workers) and `django_files` proxying `/hello/`: one without guards (a plain site, and a site with `timeout 30s`), one whose Gunicorn has `max_memory 1GiB` (its workers and master read from `/proc` every 2 s; never reached) behind `timeout 30s` and `on_timeout recycle`. Rounds alternate between the three. The last two rows are `django_files` in front of a trivial upstream (a `respond` site in the first Caddy, kept-alive connections), where Caddy's own cost, not Gunicorn's, decides the throughput: the time-out's cost per request (a timer, a cancellable context, a connection trace, a copy of the headers) shows there if anywhere. CPU: the Caddy process's CPU time per request.\n\n")
	b.printf("| site | req/s | Caddy CPU / request | / no guard |\n|---|---|---|---|\n")
	r1, _, _ := ratio(tt, ta)
	r2, _, _ := ratio(tg, ta)
	r3, _, _ := ratio(ft, fa)
	b.printf("| `django_files`, no guard | %s | %s | 1.00× |\n", ta.cell(reqs), ta.cpuCell())
	b.printf("| `django_files { timeout 30s }` | %s | %s | %s |\n", tt.cell(reqs), tt.cpuCell(), r1)
	b.printf("| `max_memory 1GiB` + `timeout 30s` + `on_timeout recycle` | %s | %s | %s |\n", tg.cell(reqs), tg.cpuCell(), r2)
	b.printf("| `django_files` → `respond` | %s | %s | 1.00× |\n", fa.cell(reqs), fa.cpuCell())
	b.printf("| `django_files { timeout 30s }` → `respond` | %s | %s | %s |\n", ft.cell(reqs), ft.cpuCell(), r3)
	b.wantRatio("11", "/hello/: django_files with timeout / without", tt, ta, 0.98, "≥ 0.98×")
	b.wantRatio("11", "/hello/: max_memory + timeout / no guard", tg, ta, 0.98, "≥ 0.98×")
	b.verdict("11", "trivial upstream: django_files with timeout / without", r3, "report", "—")
	b.verdict("11", "Caddy CPU per request: with timeout / without (trivial upstream)", cpuRatio(ft, fa), "report", "—")

	// recycles under load: 2 workers that leak 2 MB per POST /leak/
	cAdmin, cBind, site := freePort(), freePort(), freePort()
	b.printf("\nMemory recycles under load: Gunicorn with 2 sync workers and `max_memory 150MiB`; 4 client threads POST to `/leak/?mb=2&pause=0.05` (each request keeps 2 MB in its worker for good) through `django_files`, a new connection per request, until Gunicorn's status shows %d recycles (each: the worker over the limit gets TERM, finishes its request, and its master starts another; one worker at a time).\n\n", guardRecycles)
	cell, v := "not measured", "MISS"
	pc, err := b.startGuardsCaddy("caddy-guards-leak", b.guardsCaddyfile(cAdmin, cBind, 2, "max_memory 150MiB", map[int]string{site: ""}, ""), site)
	if err != nil {
		cell = "failed: " + err.Error()
	} else {
		l := startLoadWith(testkit.Clients{Method: "POST", Body: []byte("x=1")}, b.url(site, "/leak/?mb=2&pause=0.05"), 4)
		start := time.Now()
		n, rerr := 0, error(nil)
		for time.Since(start) < 10*time.Minute {
			if n, rerr = recyclesOf(cAdmin); rerr == nil && n >= guardRecycles {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		res := l.stop()
		failed := res.httpErrTotal() + res.connErrTotal()
		cell = fmt.Sprintf("%d / %d in %s, %d recycles", failed, res.total, time.Since(start).Round(time.Second), n)
		for _, c := range []map[string]int64{res.httpErrs, res.connErrs} {
			if s := fmtCounts(c); s != "" {
				cell += " (" + s + ")"
			}
		}
		if rerr != nil {
			cell += "; status: " + rerr.Error()
		}
		if n >= guardRecycles && failed == 0 && res.total > 0 {
			v = "OK"
		}
		logf("  memory recycles: %s", cell)
		b.ps.stop(pc, 60*time.Second)
	}
	b.printf("| failed / requests | \n|---|\n| %s |\n", strings.TrimSpace(cell))
	b.verdict("11", fmt.Sprintf("failed requests during %d memory recycles under load", guardRecycles), cell, "0", v)
	b.sectionFooter(m)
}
