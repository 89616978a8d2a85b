//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// --- § 9 app servers ------------------------------------------------------------

// appServerBench is one app server of § 9: its name in the django block
// (the process name) and its Caddyfile entry without bind and workers.
type appServerBench struct {
	name, entry string
	workers     bool // takes `workers` (daphne is one process)
	closes      bool // closes every connection without saying so (wrk direct asks it to)
	pins        bool // an idle connection blocks a worker (sync workers)
}

var appServerBenches = []appServerBench{
	{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand /usr/bin/gunicorn", true, false, true},
	{"uvicorn", "uvicorn demo.asgi:application {", true, false, false},
	{"hypercorn", "hypercorn demo.asgi:application {\n\t\t\tcommand /usr/bin/hypercorn", true, false, false},
	{"daphne", "daphne demo.asgi:application {\n\t\t\tcommand /usr/bin/daphne", false, false, false},
	{"uwsgi", "uwsgi demo.wsgi:application {\n\t\t\tcommand /usr/bin/uwsgi --plugin python3", true, true, true},
}

// appServerCaddyfile: the django app with one app server (3 workers) on
// bind, `django_files` on df, a plain `reverse_proxy` to the bind on rp.
func (b *bench) appServerCaddyfile(s appServerBench, admin, bind, df, rp int) string {
	workers := ""
	if s.workers {
		workers = "\n\t\t\tworkers 3"
	}
	django := fmt.Sprintf(`	django {
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		release /usr/bin/python3 manage.py migrate --noinput
		%s
			bind 127.0.0.1:%d%s
		}
	}
`, b.proj.Root, s.entry, bind, workers)
	return globalOptions(admin, django) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files\n}\n", df) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\treverse_proxy 127.0.0.1:%d\n}\n", rp, bind)
}

// appServerRow is § 9's result for one server.
type appServerRow struct {
	s                 appServerBench
	df, rp, direct    *target
	restart, deploy   loadResult
	restartN, deployN string
	err               string
}

// postLoad is § 9's failure load: POSTs (a proxy never retries them) of a
// small body to /echo-size/, a new connection per request.
var postLoad = testkit.Clients{Method: "POST", Body: []byte(strings.Repeat("x", 512))}

func (b *bench) sectionAppServers() {
	m := b.sectionHeader("9. App servers: a trivial view `/hello/` through `django_files`, a plain `reverse_proxy` and directly; failed POSTs during restart and deploy")
	var rows []*appServerRow
	only := strings.Fields(os.Getenv("BENCH_APPSERVERS")) // e.g. "daphne uwsgi"; default: all
	for _, s := range appServerBenches {
		if len(only) == 0 || slices.Contains(only, s.name) {
			rows = append(rows, b.appServerRun(s))
		}
	}
	b.printf("Each server runs alone under the plugin's Caddy (3 workers; daphne: one process), started by `django { %s … }` with `bind 127.0.0.1:PORT`. `django_files` dials the server's per-generation socket (fd 4: a unix socket; daphne's is TCP) with a lease per request, a new connection each time (daphne: kept 10 s); `reverse_proxy` dials the bind (Caddy's held socket, fd 3) with Caddy's default keep-alive; \"direct\" is wrk on the bind (uWSGI's HTTP socket closes every connection, so wrk sends it `Connection: close`); idle connections reverse_proxy leaves to a Gunicorn or uWSGI (each blocks a sync worker) are drained after each run. Failures: 4 threads POST 512 bytes to `/echo-size/` through `django_files`, a new connection per request, during %d restarts (`POST /django/processes/NAME/restart`) and %d deploys (`POST /django/reload`: `migrate`, then a new generation), 1 s apart.\n\n", "NAME", failEvents, failEvents)
	b.printf("| server | django_files | reverse_proxy | direct | django_files / reverse_proxy | django_files / direct | reverse_proxy / direct | restart: failed / requests | deploy: failed / requests |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if r.err != "" {
			b.printf("| %s | failed: %s | | | | | | | |\n", r.s.name, r.err)
			b.verdict("9", r.s.name+": /hello/ django_files / reverse_proxy", "failed: "+r.err, "≥ 1.00×", "n/a")
			continue
		}
		dr, _, _ := ratio(r.df, r.rp)
		dd, _, _ := ratio(r.df, r.direct)
		rd, _, _ := ratio(r.rp, r.direct)
		b.printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.s.name, r.df.cell(reqs), r.rp.cell(reqs), r.direct.cell(reqs), dr, dd, rd, r.restartN, r.deployN)
		b.wantRatio("9", r.s.name+": /hello/ django_files / reverse_proxy", r.df, r.rp, 1.00, "≥ 1.00×")
		b.verdict("9", r.s.name+": /hello/ django_files / direct", dd, "report", "—")
		for _, f := range []struct {
			what string
			r    loadResult
			n    string
		}{{"restart", r.restart, r.restartN}, {"deploy", r.deploy, r.deployN}} {
			v := "OK"
			if f.r.total == 0 || f.r.httpErrTotal()+f.r.connErrTotal() > 0 {
				v = "MISS"
			}
			b.verdict("9", fmt.Sprintf("%s: failed POSTs during %d %ss", r.s.name, failEvents, f.what), f.n, "0", v)
		}
	}
	b.sectionFooter(m)
}

// appServerRun starts a Caddy with the app server s, measures it and
// stops it.
func (b *bench) appServerRun(s appServerBench) *appServerRow {
	row := &appServerRow{s: s}
	admin, bind, df, rp := freePort(), freePort(), freePort(), freePort()
	cf := filepath.Join(b.work, "appserver-"+s.name+".Caddyfile")
	if err := os.WriteFile(cf, []byte(b.appServerCaddyfile(s, admin, bind, df, rp)), 0o644); err != nil {
		row.err = err.Error()
		return row
	}
	logf("  %s: starting", s.name)
	p, err := b.ps.spawn("caddy-"+s.name, b.proj.Root, b.proj.env, b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	if err == nil {
		err = waitHTTP(b.url(df, "/hello/"), 90*time.Second)
	}
	if err != nil {
		row.err = err.Error()
		b.ps.stop(p, 60*time.Second)
		return row
	}
	want := func(r checkResult) string {
		if r.status != 200 {
			return fmt.Sprintf("status %d", r.status)
		}
		return ""
	}
	row.df = &target{name: s.name + " django_files", url: b.url(df, "/hello/"), want: want}
	row.rp = &target{name: s.name + " reverse_proxy", url: b.url(rp, "/hello/"), want: want}
	if s.pins {
		// reverse_proxy keeps idle connections to the bind: drain them
		// after each run; django_files keeps none
		row.rp.pinPort = bind
	}
	row.direct = &target{name: s.name + " direct", url: b.url(bind, "/hello/"), want: want}
	if s.closes {
		row.direct.headers = map[string]string{"Connection": "close"}
	}
	b.measure([]*target{row.df, row.rp, row.direct}, b.rounds, 32, b.dur, "")

	adminURL := func(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", admin, path) }
	post := b.url(df, "/echo-size/")
	var note string
	row.restart, note = failRunWith(postLoad, post, func(int) error {
		return postAdmin(adminURL("/django/processes/"+s.name+"/restart"), "", "")
	})
	row.restartN = failCell(row.restart, note)
	row.deploy, note = failRunWith(postLoad, post, func(int) error { return postAdmin(adminURL("/django/reload"), "", "") })
	row.deployN = failCell(row.deploy, note)
	logf("  %s: restart %s; deploy %s", s.name, row.restartN, row.deployN)
	b.ps.stop(p, 60*time.Second)
	return row
}

// failCell is "failed / requests" with the kinds of failure and the
// slowest event.
func failCell(r loadResult, note string) string {
	s := fmt.Sprintf("%d / %d", r.httpErrTotal()+r.connErrTotal(), r.total)
	for _, m := range []map[string]int64{r.httpErrs, r.connErrs} {
		if c := fmtCounts(m); c != "" {
			s += " (" + c + ")"
		}
	}
	return s + "; " + note
}
