//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// --- throughput targets ---------------------------------------------------

type target struct {
	name    string
	url     string
	headers map[string]string
	want    func(checkResult) string // "" when the answer is the expected one
	na      string                   // why the row is not measured
	rps     []float64
	errs    []string
	pinPort int // count client connections to this port left open after each run
	pinned  int // the most left by one run
	rounds  map[int]run
	cpuPID  int       // when set: this server's CPU time per request is measured
	cpuMS   []float64 // its CPU milliseconds per request, per run
	p50     []time.Duration
	p99     []time.Duration
	cpus    string // when set: wrk runs on these CPUs (taskset -c)
}

// latCell is the median p50 / p99 latency over the runs.
func (t *target) latCell() string {
	if t.na != "" || len(t.p50) == 0 {
		return "—"
	}
	med := func(ds []time.Duration) time.Duration {
		xs := make([]float64, len(ds))
		for i, d := range ds {
			xs[i] = float64(d)
		}
		return time.Duration(median(xs))
	}
	return fmt.Sprintf("%s / %s", ms(med(t.p50)), ms(med(t.p99)))
}

// cpuCell is the median CPU time per request with its range.
func (t *target) cpuCell() string {
	if t.na != "" || len(t.cpuMS) == 0 {
		return "—"
	}
	lo, hi := spread(t.cpuMS)
	if hi < 1 { // small requests: 0.1 ms would hide a 30% difference
		return fmt.Sprintf("%.0f µs (%.0f–%.0f)", 1000*median(t.cpuMS), 1000*lo, 1000*hi)
	}
	return fmt.Sprintf("%.1f ms (%.1f–%.1f)", median(t.cpuMS), lo, hi)
}

// run is one wrk run of a target in a round.
type run struct {
	rps     float64
	foreign float64 // % of the machine used by other processes meanwhile
}

// noisyRun is the share of the machine (%) used by other processes above
// which a run is left out of the paired ratios (when enough clean rounds
// remain).
const noisyRun = 25.0

func (t *target) median() float64 { return median(t.rps) }

func (t *target) cell(unit func(float64) string) string {
	if t.na != "" {
		return t.na
	}
	if len(t.rps) == 0 {
		return "failed: " + strings.Join(t.errs, "; ")
	}
	lo, hi := spread(t.rps)
	s := fmt.Sprintf("%s (%s–%s)", unit(t.median()), unit(lo), unit(hi))
	if len(t.errs) > 0 {
		s += " ⚠ " + strings.Join(dedupe(t.errs), "; ")
	}
	return s
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func reqs(x float64) string { return commas(int64(x + 0.5)) }

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

// ratio is the median over rounds of a's req/s divided by b's in the same
// round (the two ran next to each other in time, so load from other jobs
// mostly cancels out). Rounds in which other processes used more than
// noisyRun % of the machine during either run are left out when at least
// two clean rounds remain. It returns the formatted value (with the range
// of the per-round ratios), the median, and whether there was one.
func ratio(a, b *target) (string, float64, bool) {
	switch {
	case a.na != "":
		return a.na, 0, false
	case b.na != "":
		return b.na, 0, false
	}
	var all, clean []float64
	for r, ra := range a.rounds {
		rb, ok := b.rounds[r]
		if !ok || rb.rps == 0 {
			continue
		}
		x := ra.rps / rb.rps
		all = append(all, x)
		if max(ra.foreign, rb.foreign) <= noisyRun {
			clean = append(clean, x)
		}
	}
	if len(all) == 0 {
		return "n/a (measurement failed)", 0, false
	}
	use, note := clean, ""
	if len(clean) < 2 {
		use = all
		if len(clean) < len(all) {
			note = ", noisy"
		}
	} else if len(clean) < len(all) {
		note = fmt.Sprintf(", %d noisy left out", len(all)-len(clean))
	}
	m := median(use)
	lo, hi := spread(use)
	return fmt.Sprintf("%.2f× (%.2f–%.2f, %d rounds%s)", m, lo, hi, len(use), note), m, true
}

func (b *bench) wantRatio(section, measure string, a, base *target, min float64, target string) bool {
	s, r, ok := ratio(a, base)
	v := "n/a"
	missed := false
	if ok {
		if r >= min {
			v = "OK"
		} else {
			v, missed = "MISS", true
		}
	}
	b.verdict(section, measure, s, target, v)
	return missed
}

func (b *bench) reference(section, measure string, a, base *target) {
	s, _, _ := ratio(a, base)
	b.verdict(section, measure, s, "(reference)", "—")
}

// check verifies each target answers as expected before it is measured.
func (b *bench) check(ts []*target) {
	for _, t := range ts {
		if t.na != "" {
			continue
		}
		r, err := fetch(t.url, t.headers)
		if err != nil {
			t.na = "failed: " + err.Error()
		} else if t.want != nil {
			if problem := t.want(r); problem != "" {
				t.na = "misconfigured: " + problem
			}
		}
		if t.na != "" {
			logf("%s: %s", t.name, t.na)
		}
	}
}

func wantFile(status int, size int64, encoding string) func(checkResult) string {
	return func(r checkResult) string {
		if r.status != status || r.size != size || r.encoding != encoding {
			return fmt.Sprintf("got %d, %d bytes, encoding %q; want %d, %d bytes, encoding %q", r.status, r.size, r.encoding, status, size, encoding)
		}
		return ""
	}
}

// measure runs wrk against every target, rounds times, rotating the order
// each round so no target always runs first or last.
// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// cpuRatio is a's median CPU time per request over b's.
func cpuRatio(a, b *target) string {
	if len(a.cpuMS) == 0 || len(b.cpuMS) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", median(a.cpuMS)/median(b.cpuMS))
}

func (b *bench) measure(ts []*target, rounds, conns int, dur time.Duration, script string) {
	b.check(ts)
	for r := 0; r < rounds; r++ {
		// ts[0] and ts[1] (the pair the targets are about) always run next
		// to each other, in turns first; the others follow, in turns reversed
		order := append([]*target{}, ts...)
		if r%2 == 1 && len(order) > 1 {
			order[0], order[1] = order[1], order[0]
			slices.Reverse(order[2:])
		}
		for _, t := range order {
			if t.na != "" {
				continue
			}
			var before map[string]bool
			if t.pinPort != 0 {
				before = establishedTo(t.pinPort)
			}
			meter := newCPUMeter()
			var cpu0 int64
			if t.cpuPID != 0 {
				cpu0 = cpuTicks(t.cpuPID)
			}
			res, err := b.wrkOn(t.cpus, t.url, conns, dur, headerList(t.headers), script)
			foreign := meter.foreign()
			if t.cpuPID != 0 && err == nil && res.rps > 0 {
				ticks := float64(cpuTicks(t.cpuPID) - cpu0)
				t.cpuMS = append(t.cpuMS, ticks*1000/clockTicks/(res.rps*dur.Seconds()))
			}
			if t.pinPort != 0 {
				time.Sleep(300 * time.Millisecond)
				n := 0
				for c := range establishedTo(t.pinPort) {
					if !before[c] {
						n++
					}
				}
				t.pinned = max(t.pinned, n)
				if n > 0 { // don't let them stall the next target's run
					if left := drain(t.url, t.pinPort, before, 15*time.Second); left > 0 {
						logf("  %d idle upstream connections still open after draining", left)
					}
				}
			}
			if err != nil {
				t.errs = append(t.errs, err.Error())
				continue
			}
			if res.errs != "" {
				t.errs = append(t.errs, res.errs)
			}
			t.rps = append(t.rps, res.rps)
			if res.p50 > 0 {
				t.p50, t.p99 = append(t.p50, res.p50), append(t.p99, res.p99)
			}
			if t.rounds == nil {
				t.rounds = map[int]run{}
			}
			t.rounds[r] = run{res.rps, foreign}
			logf("  %-28s round %d: %s req/s (other processes: %.0f%% of the machine) %s", t.name, r+1, reqs(res.rps), foreign, res.errs)
		}
	}
}

func headerList(h map[string]string) []string {
	var out []string
	for k, v := range h {
		out = append(out, k+": "+v)
	}
	return out
}

func (b *bench) dfNA() string {
	if b.df.ok {
		return ""
	}
	return "n/a (" + b.df.reason + ")"
}

func (b *bench) url(port int, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
}

// profile takes a CPU profile of the plugin's Caddy while wrk loads t.
func (b *bench) profile(name string, t *target, conns int, script string) {
	if t.na != "" {
		return
	}
	path := filepath.Join(b.work, "pprof-"+name+".pb.gz")
	secs := max(2, int(b.dur.Seconds())-1)
	if err := b.loadProfile(b.adminURL(""), path, secs, t.url, conns, headerList(t.headers), script); err != nil {
		b.profiles = append(b.profiles, fmt.Sprintf("Profile %s failed: %v", name, err))
		return
	}
	top := cmdOut("go", "tool", "pprof", "-top", "-nodecount=30", b.caddyBin, path)
	b.profiles = append(b.profiles, fmt.Sprintf("#### CPU profile of Caddy+plugin during %s (%s; kept with BENCH_KEEP=1)\n\n```text\n%s\n```", t.name, path, top))
}

// loadProfile writes to path a CPU profile of secs seconds of the Caddy
// whose admin endpoint is admin (http://host:port), taken while wrk loads
// url with conns connections.
func (b *bench) loadProfile(admin, path string, secs int, url string, conns int, headers []string, script string) error {
	return b.loadProfileOn("", admin, path, secs, url, conns, headers, script)
}

// loadProfileOn is loadProfile with wrk on the CPUs cpus ("": any).
func (b *bench) loadProfileOn(cpus, admin, path string, secs int, url string, conns int, headers []string, script string) error {
	done := make(chan struct{})
	go func() {
		_, _ = b.wrkOn(cpus, url, conns, time.Duration(secs+2)*time.Second, headers, script)
		close(done)
	}()
	defer func() { <-done }()
	time.Sleep(500 * time.Millisecond)
	client := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
	resp, err := client.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", admin, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// --- § 1 static files ---------------------------------------------------------

func (b *bench) sectionStatic() {
	m := b.sectionHeader("1. Static files (req/s, median of rounds, range in brackets)")
	p := b.proj
	gz := map[string]string{"Accept-Encoding": "gzip"}
	files := []struct {
		label, short, path string
		headers            map[string]string
		want               func(checkResult) string
		ceilPort           int
		ceilSize           int64
		nginxMin           float64
	}{
		{fmt.Sprintf("hashed CSS `%s` (%d B)", p.cssURL, p.cssSize), "CSS", p.cssURL, nil, wantFile(200, p.cssSize, ""), b.ports.ceilCSS, p.cssSize, 0.5},
		{fmt.Sprintf("JS `%s` (%d B, %d B gzipped), `Accept-Encoding: gzip`", p.jsURL, p.jsSize, p.jsGzSize), "JS gzip", p.jsURL, gz, wantFile(200, p.jsGzSize, "gzip"), b.ports.ceilJS, p.jsGzSize, 0.4},
	}
	b.printf("| file | django_files | Caddy file_server | WhiteNoise (Gunicorn, 3 sync workers) | nginx (1 worker) | Caddy `respond`, same size (ceiling) | django_files, `cache_size off` |\n|---|---|---|---|---|---|---|\n")
	for _, f := range files {
		df := &target{name: "django_files " + f.short, url: b.url(b.ports.df, f.path), headers: f.headers, want: f.want, na: b.dfNA()}
		fs := &target{name: "file_server " + f.short, url: b.url(b.ports.fs, f.path), headers: f.headers, want: f.want}
		wn := &target{name: "WhiteNoise " + f.short, url: b.url(b.ports.wn, f.path), headers: f.headers, want: f.want}
		ngx := &target{name: "nginx " + f.short, url: b.url(b.ports.nginx, f.path), headers: f.headers, want: f.want}
		ceil := &target{name: "respond " + f.short, url: b.url(f.ceilPort, "/"), want: wantFile(200, f.ceilSize, "")}
		off := &target{name: "django_files nocache " + f.short, url: b.url(b.ports.dfNoCache, f.path), headers: f.headers, want: f.want, na: b.dfNA()}
		if off.na == "" && !b.df.noCache {
			off.na = "n/a (no static cache in this build)"
		}
		// the Caddy rows also measure Caddy's CPU time per request, which
		// load from other jobs on the machine disturbs less than req/s
		for _, t := range []*target{df, fs, ceil, off} {
			t.cpuPID = b.ours.cmd.Process.Pid
		}
		b.measure([]*target{df, fs, wn, ngx, ceil, off}, b.rounds, 32, b.dur, "")
		b.printf("| %s | %s | %s | %s | %s | %s | %s |\n", f.label, df.cell(reqs), fs.cell(reqs), wn.cell(reqs), ngx.cell(reqs), ceil.cell(reqs), off.cell(reqs))
		b.printf("| Caddy CPU per request, same file | %s | %s | — | — | %s | %s |\n", cpuMicros(df), cpuMicros(fs), cpuMicros(ceil), cpuMicros(off))
		missA := b.wantRatio("1", "static "+f.short+": django_files / file_server", df, fs, 1.0, "≥ 1.0×")
		missB := b.wantRatio("1", "static "+f.short+": django_files / WhiteNoise", df, wn, 4.0, "≥ 4×")
		missC := b.wantRatio("1", "static "+f.short+": django_files / nginx", df, ngx, f.nginxMin, fmt.Sprintf("≥ %.1f×", f.nginxMin))
		b.reference("1", "static "+f.short+": Caddy `respond` (ceiling) / nginx", ceil, ngx)
		b.reference("1", "static "+f.short+": django_files / Caddy `respond` (ceiling)", df, ceil)
		b.reference("1", "static "+f.short+": django_files / django_files `cache_size off`", df, off)
		b.verdict("1", "static "+f.short+": Caddy CPU per request, django_files / file_server", cpuRatio(df, fs), "report (lower is better)", "—")
		b.verdict("1", "static "+f.short+": Caddy CPU per request, django_files / `respond` (ceiling)", cpuRatio(df, ceil), "report (lower is better)", "—")
		b.verdict("1", "static "+f.short+": Caddy CPU per request, django_files / `cache_size off`", cpuRatio(df, off), "report (lower is better)", "—")
		b.reference("1", "static "+f.short+": file_server / WhiteNoise", fs, wn)
		b.reference("1", "static "+f.short+": file_server / nginx", fs, ngx)
		if missA || missB || missC || (b.pprof && df.na == "") {
			b.profile("static "+f.short, df, 32, "")
		}
	}
	b.staticCacheMemory()
	b.sectionFooter(m)
}

// cpuMicros is t's median Caddy CPU time per request in microseconds, with
// its range.
func cpuMicros(t *target) string {
	if t.na != "" || len(t.cpuMS) == 0 {
		return "—"
	}
	lo, hi := spread(t.cpuMS)
	return fmt.Sprintf("%.0f µs (%.0f–%.0f)", median(t.cpuMS)*1000, lo*1000, hi*1000)
}

// staticCacheMemory reports the django_files static cache's size (from
// the plugin's metrics at the admin endpoint).
func (b *bench) staticCacheMemory() {
	if !b.df.ok {
		return
	}
	resp, err := http.Get(b.adminURL("/metrics"))
	if err != nil {
		logf("metrics: %v", err)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	vals := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		for _, name := range []string{"caddy_django_static_cache_bytes", "caddy_django_static_cache_files", "caddy_django_static_cache_hits_total"} {
			if strings.HasPrefix(line, name+"{") && strings.Contains(line, strconv.Quote(b.proj.Static)) {
				f := strings.Fields(line)
				v, _ := strconv.ParseFloat(f[len(f)-1], 64)
				vals[name] += v
			}
		}
	}
	v := fmt.Sprintf("%s bytes in %.0f files (%.0f responses served from it)", commas(int64(vals["caddy_django_static_cache_bytes"])),
		vals["caddy_django_static_cache_files"], vals["caddy_django_static_cache_hits_total"])
	b.printf("\nStatic cache of django_files (metrics `caddy_django_static_cache_bytes`, `_files`, `_hits_total`): %s.\n", v)
	b.verdict("1", "static cache memory (bytes, files)", v, "report (≤ 32 MiB default cap)", "—")
}

// --- § 2 large media ---------------------------------------------------------------

func (b *bench) sectionMedia() {
	m := b.sectionHeader("2. Large media (50 MiB file)")
	p := b.proj
	dur := min(b.dur, 3*time.Second)
	mbs := func(rps float64) string { return fmt.Sprintf("%s MB/s", commas(int64(rps*float64(p.bigSize)/1e6+0.5))) }
	rng := map[string]string{"Range": "bytes=1048576-2097151"}
	wantRange := func(r checkResult) string {
		if r.status != 206 || r.size != 1<<20 {
			return fmt.Sprintf("got %d, %d bytes; want 206, 1048576 bytes", r.status, r.size)
		}
		return ""
	}
	dfBig := &target{name: "django_files 50MB", url: b.url(b.ports.df, p.bigURL), want: wantFile(200, p.bigSize, ""), na: b.dfNA(), cpuPID: b.ours.cmd.Process.Pid}
	fsBig := &target{name: "file_server 50MB", url: b.url(b.ports.fs, p.bigURL), want: wantFile(200, p.bigSize, ""), cpuPID: b.ours.cmd.Process.Pid}
	b.measure([]*target{dfBig, fsBig}, min(b.rounds, 3), 4, dur, "")
	dfR := &target{name: "django_files 1MiB ranges", url: b.url(b.ports.df, p.bigURL), headers: rng, want: wantRange, na: b.dfNA()}
	fsR := &target{name: "file_server 1MiB ranges", url: b.url(b.ports.fs, p.bigURL), headers: rng, want: wantRange}
	// checked with the fixed range above, measured with random ranges (Lua)
	b.check([]*target{dfR, fsR})
	dfR.headers, fsR.headers, dfR.want, fsR.want = nil, nil, nil, nil
	b.measure([]*target{dfR, fsR}, min(b.rounds, 3), 16, dur, filepath.Join(b.work, "ranges.lua"))
	b.printf("wrk -t1 -d%s, %d rounds; whole file with 4 connections, random 1 MiB `Range` requests with 16.\n\n", dur, min(b.rounds, 3))
	b.printf("| request | django_files | Caddy file_server | ratio |\n|---|---|---|---|\n")
	r1, _, _ := ratio(dfBig, fsBig)
	r2, _, _ := ratio(dfR, fsR)
	b.printf("| whole 50 MiB file | %s | %s | %s |\n", dfBig.cell(mbs), fsBig.cell(mbs), r1)
	b.printf("| Caddy CPU time per 50 MiB download | %s | %s | %s |\n", dfBig.cpuCell(), fsBig.cpuCell(), cpuRatio(dfBig, fsBig))
	b.printf("| 1 MiB ranges (206) | %s | %s | %s |\n", dfR.cell(reqs), fsR.cell(reqs), r2)
	b.printf("\n(MB/s = requests/s × 52,428,800 bytes / 10⁶; ranges in requests/s. On loopback the client, which reads every byte, is the bottleneck of the whole-file rows; Caddy's CPU time per download is what the server side costs.)\n")
	// the issue sets no target here: report (the whole-file rows are bound
	// by the client on loopback; Caddy's CPU per download is the server side)
	b.verdict("2", "50 MiB download throughput: django_files / file_server", r1, "report (client-bound)", "—")
	b.verdict("2", "Caddy CPU per 50 MiB download: django_files / file_server", cpuRatio(dfBig, fsBig), "report (lower is better)", "—")
	b.verdict("2", "1 MiB Range requests: django_files / file_server", r2, "report", "—")
	b.sectionFooter(m)
}

// --- § 3 proxied view ---------------------------------------------------------------

// establishedTo returns the local ends ("ip:port" hex, from /proc/net/tcp) of
// established connections whose remote port is port: the client side of
// connections to Gunicorn.
func establishedTo(port int) map[string]bool {
	out := map[string]bool{}
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return out
	}
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[2], suffix) && f[3] == "01" {
			out[f[1]] = true
		}
	}
	return out
}

func countInFile(path, needle string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), needle)
}

func (b *bench) sectionProxy() {
	m := b.sectionHeader("3. Proxied Django view `/hello/` (req/s)")
	want := func(r checkResult) string {
		if r.status != 200 {
			return fmt.Sprintf("status %d", r.status)
		}
		return ""
	}
	// a Gunicorn like the article's (one listener), for reference: the
	// plugin's Gunicorn gets two sockets (fd://3 served, fd://4 readiness)
	alone := freePort()
	ga, err := b.ps.spawn("gunicorn-standalone", b.proj.Root, b.proj.env, "/usr/bin/gunicorn",
		"--bind", fmt.Sprintf("127.0.0.1:%d", alone), "--workers", "3", "demo.wsgi:application")
	if err == nil {
		err = waitHTTP(b.url(alone, "/hello/"), 60*time.Second)
	}
	g := b.ports.gunicorn
	df := &target{name: "django_files /hello/", url: b.url(b.ports.df, "/hello/"), want: want, na: b.dfNA(), pinPort: g}
	rp := &target{name: "reverse_proxy /hello/", url: b.url(b.ports.fs, "/hello/"), want: want, pinPort: g}
	rk := &target{name: "reverse_proxy keepalive off", url: b.url(b.ports.rk, "/hello/"), want: want, pinPort: g}
	gd := &target{name: "gunicorn direct /hello/", url: b.url(g, "/hello/"), want: want}
	gs := &target{name: "gunicorn standalone /hello/", url: b.url(alone, "/hello/"), want: want}
	if err != nil {
		gs.na = "failed: " + err.Error()
	}
	b.measure([]*target{df, rp, rk, gd, gs}, b.rounds, 32, b.dur, "")
	b.ps.stop(ga, 40*time.Second)
	b.printf("Same Gunicorn (3 sync workers, supervised by the plugin) behind the first four columns. \"Idle upstream connections\" counts connections from Caddy to Gunicorn still open 0.3 s after a wrk run ended (most left by one run; wrk cancels its in-flight requests when it stops): a sync worker that accepts one blocks reading a request that never comes, until the connection is used or closed or Gunicorn's 30 s worker timeout kills the worker. They are drained with normal requests before the next run, or they stall it.\n\n")
	b.printf("| front | req/s | idle upstream connections left |\n|---|---|---|\n")
	pin := func(t *target) string {
		if t.na != "" {
			return "—"
		}
		return fmt.Sprint(t.pinned)
	}
	b.printf("| django_files | %s | %s |\n", df.cell(reqs), pin(df))
	b.printf("| Caddy reverse_proxy (article) | %s | %s |\n", rp.cell(reqs), pin(rp))
	b.printf("| Caddy reverse_proxy, `transport http { keepalive off }` | %s | %s |\n", rk.cell(reqs), pin(rk))
	b.printf("| Gunicorn direct (the plugin's: fd://3 + fd://4) | %s | — |\n", gd.cell(reqs))
	b.printf("| Gunicorn direct, standalone (one `--bind`) | %s | — |\n", gs.cell(reqs))
	if n := countInFile(b.ours.cmd.Stdout.(*os.File).Name(), "WORKER TIMEOUT"); n > 0 {
		b.printf("\nGunicorn logged `WORKER TIMEOUT` %d time(s) in the plugin's Caddy so far (workers killed after being pinned by an idle upstream connection).\n", n)
	}
	miss := b.wantRatio("3", "/hello/: django_files / reverse_proxy", df, rp, 0.95, "≥ 0.95×")
	b.reference("3", "/hello/: reverse_proxy / Gunicorn direct", rp, gd)
	s, _, _ := ratio(df, gd)
	b.verdict("3", "/hello/: django_files / Gunicorn direct", s, "report", "—")
	b.reference("3", "/hello/: reverse_proxy keepalive off / reverse_proxy", rk, rp)
	b.reference("3", "/hello/: Gunicorn with fd://3+fd://4 / standalone Gunicorn", gd, gs)
	if df.na == "" {
		v := "OK"
		if df.pinned > 0 {
			v = "MISS"
		}
		b.verdict("3", "idle upstream connections left by django_files after a load run", fmt.Sprint(df.pinned), "0 (each pins a sync worker)", v)
	}
	if miss || (b.pprof && df.na == "") {
		b.profile("hello", df, 32, "")
	}
	b.sectionFooter(m)
}

// --- § 6 slow clients ---------------------------------------------------------------

func (b *bench) sectionSlowClients() {
	const (
		uploads  = 8
		size     = 20 << 10
		chunk    = 1 << 10
		interval = 250 * time.Millisecond // 4 KiB/s per upload, 5 s each
	)
	m := b.sectionHeader("6. Slow clients: 8 uploads at 4 KiB/s vs a normal `/hello/`")
	b.printf("%d clients each POST %d KiB to `/echo-size/` at 4 KiB/s (5 s); from 1 s to 4.6 s a `/hello/` probe starts every 200 ms on its own connection. Latency of those probes:\n\n", uploads, size>>10)
	type mode struct {
		front, buffering string
		port             int
		na               string
		targeted         bool
	}
	modes := []mode{
		{"Caddy reverse_proxy (the article's config)", "off (Caddy's default)", b.ports.fs, "", false},
		{"Caddy reverse_proxy + `request_buffers 1MB`", "on (stock Caddy option)", b.ports.rb, "", false},
	}
	if b.df.ok {
		modes = append(modes, mode{"django_files", "default", b.ports.df, "", true})
		modes = append(modes,
			mode{"django_files", "`" + dfSpool + "` (spooled to a temp file)", b.ports.dfSpool, "", true},
			mode{"django_files", "off", 0, "n/a (no such option: django_files always reads the whole body before contacting Gunicorn)", false})
	} else {
		modes = append(modes, mode{"django_files", "on", 0, b.dfNA(), true}, mode{"django_files", "off", 0, b.dfNA(), false})
	}
	b.printf("| Gunicorn sync workers | front | request buffering | /hello/ p50 | p90 | max | probes failed | uploads OK |\n|---|---|---|---|---|---|---|---|\n")
	for _, workers := range []int{1, 3} {
		if err := b.reloadOurs(workers, b.oursRev); err != nil {
			b.printf("| %d | reload failed: %v | | | | | | |\n", workers, err)
			continue
		}
		idle := slowUploads(fmt.Sprintf("127.0.0.1:%d", b.ports.fs), 0, 0, 1, 0, 0, 2*time.Second, 200*time.Millisecond)
		b.printf("| %d | (no uploads, reverse_proxy) | — | %s | %s | %s | %d/%d | — |\n", workers, ms(idle.quantile(0.5)), ms(idle.quantile(0.9)), ms(idle.quantile(1)), idle.probeFails, len(idle.probes))
		for _, md := range modes {
			if md.na != "" {
				b.printf("| %d | %s | %s | %s | | | | |\n", workers, md.front, md.buffering, md.na)
				if md.targeted {
					b.verdict("6", fmt.Sprintf("%d worker(s), 8 slow uploads: /hello/ p90 via django_files (buffering %s)", workers, md.buffering), md.na, "< 100 ms", "n/a")
				}
				continue
			}
			r := slowUploads(fmt.Sprintf("127.0.0.1:%d", md.port), uploads, size, chunk, interval, time.Second, 4600*time.Millisecond, 200*time.Millisecond)
			logf("  workers %d, %s (%s): p50 %s max %s, uploads %d/%d", workers, md.front, md.buffering, ms(r.quantile(0.5)), ms(r.quantile(1)), r.uploadsOK, r.uploads)
			b.printf("| %d | %s | %s | %s | %s | %s | %d/%d | %d/%d |\n", workers, md.front, md.buffering,
				ms(r.quantile(0.5)), ms(r.quantile(0.9)), ms(r.quantile(1)), r.probeFails, len(r.probes), r.uploadsOK, r.uploads)
			if md.targeted {
				v := "OK"
				if r.quantile(0.9) >= 100*time.Millisecond || r.probeFails > 0 {
					v = "MISS"
				}
				b.verdict("6", fmt.Sprintf("%d worker(s), 8 slow uploads: /hello/ p90 via django_files (buffering %s)", workers, md.buffering), ms(r.quantile(0.9)), "< 100 ms", v)
			}
		}
	}
	if err := b.reloadOurs(3, b.oursRev); err != nil {
		logf("restoring 3 workers: %v", err)
	}
	b.sectionFooter(m)
}

// --- § 4 failed requests ----------------------------------------------------------------

type failRow struct {
	scenario, stack string
	events          int
	r               loadResult
	note            string
}

const failEvents = 3

// failRun loads url with 4 threads (new connection per request), performs
// event failEvents times 1 s apart, and counts what failed.
func failRun(url string, event func(i int) error) (loadResult, string) {
	return failRunWith(testkit.Clients{}, url, event)
}

// failRunWith is failRun with clients of kind c.
func failRunWith(c testkit.Clients, url string, event func(i int) error) (loadResult, string) {
	l := startLoadWith(c, url, 4)
	deadline := time.Now().Add(10 * time.Second)
	for l.okCount() < 50 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	var errs []string
	var slowest time.Duration
	for i := range failEvents {
		t0 := time.Now()
		if err := event(i); err != nil {
			errs = append(errs, err.Error())
		}
		slowest = max(slowest, time.Since(t0))
		time.Sleep(time.Second)
	}
	time.Sleep(500 * time.Millisecond)
	note := fmt.Sprintf("slowest event took %s", ms(slowest))
	if len(errs) > 0 {
		note += "; errors: " + strings.Join(dedupe(errs), "; ")
	}
	return l.stop(), note
}

func (b *bench) sectionFailures(wn *proc) {
	m := b.sectionHeader(fmt.Sprintf("4. Failed requests under load (4 client threads, new connection per request, %d events per row)", failEvents))
	var rows []failRow
	add := func(scenario, stack string, r loadResult, note string) failRow {
		row := failRow{scenario, stack, failEvents, r, note}
		rows = append(rows, row)
		logf("  %s / %s: %d requests, HTTP errors %d, connection errors %d %s", scenario, stack, r.total, r.httpErrTotal(), r.connErrTotal(), note)
		return row
	}
	site, stack := b.ports.df, "Caddy + plugin, `django_files`"
	if !b.df.ok {
		site, stack = b.ports.fs, "Caddy + plugin, `reverse_proxy` (django_files "+b.df.reason+")"
	}
	hello := b.url(site, "/hello/")
	gpid := func() int { st, _ := b.gunicornStatus(); return st.PID }

	// the plain Caddy used as the control for config reloads
	ctlAdmin, ctlR, ctlP := freePort(), freePort(), freePort()
	ctlCf := filepath.Join(b.work, "control.Caddyfile")
	_ = os.WriteFile(ctlCf, []byte(controlCaddyfile(ctlAdmin, ctlR, ctlP, b.ports.wn, 0)), 0o644)
	ctl, err := b.ps.spawn("caddy-control", b.work, b.proj.env, b.caddyBin, "run", "--config", ctlCf, "--adapter", "caddyfile")
	if err == nil {
		err = waitHTTP(b.url(ctlR, "/"), 30*time.Second)
	}
	if err == nil {
		err = waitHTTP(b.url(ctlP, "/hello/"), 30*time.Second)
	}
	if err != nil {
		b.printf("control Caddy failed to start: %v\n\n", err)
	}
	ctlRev := 0
	ctlReload := func(int) error {
		ctlRev++
		return postAdmin(fmt.Sprintf("http://127.0.0.1:%d/load", ctlAdmin), "text/caddyfile", controlCaddyfile(ctlAdmin, ctlR, ctlP, b.ports.wn, ctlRev))
	}
	// the controls: the same number of config reloads on a Caddy without
	// the plugin (any config change swaps Caddy's listeners the same way)
	controls := func() (front int64) {
		sc := fmt.Sprintf("control for both reload rows: %d config reloads", failEvents)
		r, note := failRun(b.url(ctlR, "/"), ctlReload)
		add(sc, "plain Caddy, `respond` (no plugin)", r, note)
		front += r.connErrTotal()
		r, note = failRun(b.url(ctlP, "/hello/"), ctlReload)
		add(sc, "plain Caddy, `reverse_proxy` → standalone Gunicorn (no plugin)", r, note)
		return front + r.connErrTotal()
	}
	verdictOurs := func(scenario string, r loadResult, reload bool, controlConn int64) {
		value := fmt.Sprintf("HTTP errors %d, connection errors %d of %d", r.httpErrTotal(), r.connErrTotal(), r.total)
		v := "OK"
		switch {
		case r.httpErrTotal() > 0:
			v = "MISS"
		case r.connErrTotal() > 0 && reload && controlConn > 0:
			v = "OK for the plugin; connection resets are Caddy's listener swap (controls: " + strconv.FormatInt(controlConn, 10) + ")"
		case r.connErrTotal() > 0:
			v = "MISS"
		}
		b.verdict("4", scenario+" ("+stack+")", value, "0", v)
	}

	// a: reload changing Gunicorn's workers
	sc := "config reload changing Gunicorn's `workers` (3→4→3→4)"
	changed := 0
	r, note := failRun(hello, func(i int) error {
		p := gpid()
		err := b.reloadOurs([]int{4, 3, 4}[i], b.oursRev)
		if gpid() != p {
			changed++
		}
		return err
	})
	note = fmt.Sprintf("Gunicorn replaced %d/%d times; %s", changed, failEvents, note)
	add(sc, stack, r, note)
	rowA, rA := sc, r
	_ = b.reloadOurs(3, b.oursRev)

	// b: unrelated reload
	sc = "config reload changing only an unrelated header"
	before := gpid()
	r, note = failRun(hello, func(int) error { return b.reloadOurs(b.oursWorkers, b.oursRev+1) })
	if after := gpid(); after == before {
		note = "Gunicorn kept its PID; " + note
	} else {
		note = fmt.Sprintf("Gunicorn restarted (%d → %d)!; %s", before, after, note)
	}
	add(sc, stack, r, note)
	front := controls()
	verdictOurs(rowA, rA, true, front)
	verdictOurs(sc, r, true, front)

	// c: SIGKILL of the Gunicorn master
	sc = "SIGKILL of the Gunicorn master"
	r, note = failRun(hello, func(int) error {
		p := gpid()
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
			return err
		}
		return b.waitGunicorn(p, 60*time.Second)
	})
	add(sc, stack, r, note)
	verdictOurs(sc, r, false, 0)

	// d: restart through the admin API (the plugin's `supervisorctl restart`)
	sc = "restart Gunicorn (`POST /django/processes/gunicorn/restart`)"
	r, note = failRun(hello, func(int) error { return postAdmin(b.adminURL("/django/processes/gunicorn/restart"), "", "") })
	add(sc, stack, r, note)
	verdictOurs(sc, r, false, 0)

	// e: deploy
	sc = "deploy (`POST /django/reload`: release `migrate`, new Gunicorn)"
	r, note = failRun(hello, func(int) error { return postAdmin(b.adminURL("/django/reload"), "", "") })
	add(sc, stack, r, note)
	verdictOurs(sc, r, false, 0)
	b.ps.stop(ctl, 20*time.Second)

	// supervisord + Caddy + Gunicorn, the article's stack
	supStack := "supervisord + Caddy `reverse_proxy` + Gunicorn (the article)"
	supDir := filepath.Join(b.work, "supervisor")
	sAdmin, sSite, sG := freePort(), freePort(), freePort()
	conf, err := b.supervisorFiles(supDir, sAdmin, sSite, sG)
	var sup *proc
	if err == nil {
		sup, err = b.ps.spawn("supervisord", supDir, b.proj.env, "supervisord", "-c", conf, "-n")
	}
	if err == nil {
		err = waitHTTP(b.url(sSite, "/hello/"), 60*time.Second)
	}
	if err != nil {
		b.printf("supervisord stack failed to start: %v\n\n", err)
	} else {
		ctlPID := func() int {
			out, _ := b.runOutput("supervisorctl", "supervisorctl", "-c", conf, "pid", "gunicorn")
			n, _ := strconv.Atoi(strings.TrimSpace(out))
			return n
		}
		direct := b.url(sG, "/hello/")
		sc = "`supervisorctl restart gunicorn`"
		r, note = failRun(b.url(sSite, "/hello/"), func(int) error {
			if out, err := b.runOutput("supervisorctl", "supervisorctl", "-c", conf, "restart", "gunicorn"); err != nil {
				return fmt.Errorf("supervisorctl: %v %s", err, out)
			}
			return waitHTTP(direct, 60*time.Second)
		})
		add(sc, supStack, r, note)
		sc = "SIGKILL of the Gunicorn master"
		r, note = failRun(b.url(sSite, "/hello/"), func(int) error {
			p := ctlPID()
			if p <= 0 {
				return fmt.Errorf("no gunicorn pid from supervisorctl")
			}
			if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
				return err
			}
			deadline := time.Now().Add(60 * time.Second)
			for time.Now().Before(deadline) {
				if n := ctlPID(); n > 0 && n != p {
					return waitHTTP(direct, time.Until(deadline))
				}
				time.Sleep(100 * time.Millisecond)
			}
			return fmt.Errorf("supervisord did not restart gunicorn within 60 s")
		})
		add(sc, supStack, r, note)
	}
	b.ps.stop(sup, 60*time.Second)

	b.printf("%s", errorLogSummary(b.ours.cmd.Stdout.(*os.File).Name(), m.start, "the plugin's Caddy"))
	b.printf("HTTP errors: an answer other than 200 (e.g. 502 from Caddy). Connection errors: no HTTP answer at all (reset, refused, closed). Caddy 2.11.9 itself, on every config reload, binds new SO_REUSEPORT listeners and closes the old ones; connections queued in an old listener are reset. The control rows do the same reloads on a Caddy without the plugin, so the part that is Caddy's front end is visible.\n\n")
	b.printf("| scenario | stack | events | requests | HTTP errors | connection errors | max latency | notes |\n|---|---|---|---|---|---|---|---|\n")
	for _, row := range rows {
		he, ce := fmt.Sprint(row.r.httpErrTotal()), fmt.Sprint(row.r.connErrTotal())
		if s := fmtCounts(row.r.httpErrs); s != "" {
			he += " (" + s + ")"
		}
		if s := fmtCounts(row.r.connErrs); s != "" {
			ce += " (" + s + ")"
		}
		b.printf("| %s | %s | %d | %d | %s | %s | %s | %s |\n", row.scenario, row.stack, row.events, row.r.total, he, ce, ms(row.r.maxLat), row.note)
	}
	b.sectionFooter(m)
}

// --- § 5 startup and memory ---------------------------------------------------------------

type bootResult struct {
	ttfb, stop                    time.Duration
	rssTotal, pssTotal            int
	supRSS, caddyRSS, gunicornRSS int
	gunicornProcs, otherProcs     int
	err                           string
}

func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(data), "\x00", " ")
}

func (b *bench) bootOnce(kind string, round int) (out bootResult) {
	var res bootResult
	defer func() { out = res }()
	dir := filepath.Join(b.work, fmt.Sprintf("boot-%s-%d", kind, round))
	_ = os.MkdirAll(dir, 0o755)
	admin, g, site := freePort(), freePort(), freePort()
	var argv []string
	if kind == "ours" {
		cf := filepath.Join(dir, "Caddyfile")
		_ = os.WriteFile(cf, []byte(b.bootCaddyfile(admin, g, site)), 0o644)
		argv = []string{b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile"}
	} else {
		conf, err := b.supervisorFiles(dir, admin, site, g)
		if err != nil {
			res.err = err.Error()
			return res
		}
		argv = []string{"supervisord", "-c", conf, "-n"}
	}
	url := b.url(site, "/hello/")
	t0 := time.Now()
	p, err := b.ps.spawn("boot-"+kind, b.proj.Root, b.proj.env, argv...)
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer func() {
		t0 := time.Now()
		b.ps.stop(p, 60*time.Second)
		res.stop = time.Since(t0) // copied into the result by the deferred copy above
	}()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(t0) > 60*time.Second {
			res.err = "no 200 within 60 s"
			return res
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.ttfb = time.Since(t0)
	for range 200 { // warm every worker a little before measuring memory
		if resp, err := client.Get(url); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	time.Sleep(500 * time.Millisecond)
	tree := append([]int{p.pid()}, testkit.Descendants(p.pid())...)
	for _, pid := range tree {
		rss, pss := memKB(pid)
		res.rssTotal += rss
		res.pssTotal += pss
		cl := cmdline(pid)
		switch {
		case strings.Contains(cl, "gunicorn"):
			res.gunicornRSS += rss
			res.gunicornProcs++
		case strings.HasPrefix(cl, b.caddyBin):
			res.caddyRSS += rss
		case pid == p.pid(): // supervisord
			res.supRSS += rss
		default:
			res.otherProcs++
			if kind == "ours" {
				res.caddyRSS += rss // the plugin's helpers count as Caddy's
			} else {
				res.supRSS += rss
			}
		}
	}
	return res
}

func (b *bench) sectionBoot() {
	m := b.sectionHeader("5. Startup and memory")
	var ours, sup []bootResult
	for r := 0; r < min(b.rounds, 3); r++ {
		kinds := []string{"ours", "sup"}
		if r%2 == 1 {
			kinds = []string{"sup", "ours"}
		}
		for _, k := range kinds {
			res := b.bootOnce(k, r)
			logf("  %s round %d: first 200 after %s, RSS %d MiB %s", k, r+1, ms(res.ttfb), res.rssTotal>>10, res.err)
			if k == "ours" {
				ours = append(ours, res)
			} else {
				sup = append(sup, res)
			}
		}
	}
	summarize := func(rs []bootResult) (ttfb, stop []float64, last bootResult, errs []string) {
		for _, r := range rs {
			if r.err != "" {
				errs = append(errs, r.err)
				continue
			}
			ttfb = append(ttfb, r.ttfb.Seconds())
			stop = append(stop, r.stop.Seconds())
			last = r
		}
		return
	}
	mib := func(kb int) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
	b.printf("From starting `caddy run` (ours) or `supervisord -n` (the article) to the first 200 from `/hello/` through Caddy, polling every 10 ms; Gunicorn 3 sync workers, no release commands in either. Memory after 200 requests, last round; RSS double-counts pages the Gunicorn workers share with their master, PSS does not.\n\n")
	b.printf("| stack | time to first 200 (median, range) | SIGTERM to exit (median) | total RSS | total PSS | supervisord RSS | Caddy RSS | Gunicorn RSS (master + workers) |\n|---|---|---|---|---|---|---|---|\n")
	oT, oS, oLast, oErr := summarize(ours)
	sT, sS, sLast, sErr := summarize(sup)
	row := func(name string, t, stop []float64, last bootResult, errs []string, supCell string) {
		if len(t) == 0 {
			b.printf("| %s | failed: %s | | | | | | |\n", name, strings.Join(errs, "; "))
			return
		}
		lo, hi := spread(t)
		b.printf("| %s | %.2f s (%.2f–%.2f) | %.2f s | %s | %s | %s | %s | %s (%d processes) |\n", name, median(t), lo, hi, median(stop),
			mib(last.rssTotal), mib(last.pssTotal), supCell, mib(last.caddyRSS), mib(last.gunicornRSS), last.gunicornProcs)
	}
	row("Caddy + plugin", oT, oS, oLast, oErr, "— (none)")
	row("supervisord + Caddy + Gunicorn", sT, sS, sLast, sErr, mib(sLast.supRSS))
	if oLast.otherProcs > 0 {
		b.printf("\nThe plugin's Caddy row includes %d helper process(es) besides Caddy and Gunicorn (counted in Caddy RSS).\n", oLast.otherProcs)
	}
	if len(oT) > 0 && len(sT) > 0 {
		v := "OK"
		if median(oT) > median(sT) {
			v = "MISS"
		}
		b.verdict("5", "time to first 200: Caddy + plugin vs supervisord stack", fmt.Sprintf("%.2f s vs %.2f s", median(oT), median(sT)), "≤ supervisord stack", v)
		v = "OK"
		if oLast.rssTotal > sLast.rssTotal {
			v = "MISS"
		}
		b.verdict("5", "total RSS: Caddy + plugin vs supervisord stack", fmt.Sprintf("%s vs %s (%+.1f MiB)", mib(oLast.rssTotal), mib(sLast.rssTotal), float64(oLast.rssTotal-sLast.rssTotal)/1024), "≤ supervisord stack", v)
		b.verdict("5", "Caddy RSS: with plugin vs plain (under supervisord)", fmt.Sprintf("%s vs %s", mib(oLast.caddyRSS), mib(sLast.caddyRSS)), "report", "—")
	}
	b.sectionFooter(m)
}

// --- § 7 idle upstream connections after cancelled requests ------------------------------

// sectionCancelled runs last on the plugin's Caddy (what it leaves behind
// lasts up to Caddy's 2 min keep-alive idle timeout). Requests that clients
// cancel while Caddy dials Gunicorn leave the dialed connection in the
// transport's idle pool; Gunicorn's sync worker that accepts it blocks
// reading a request that never comes, until the connection is used, closed
// after 2 min, or the worker is killed at Gunicorn's 30 s timeout.
func (b *bench) sectionCancelled() {
	m := b.sectionHeader("7. Idle upstream connections after cancelled requests")
	g := b.ports.gunicorn
	logPath := b.ours.cmd.Stdout.(*os.File).Name()
	timeouts0 := countInFile(logPath, "WORKER TIMEOUT")
	b.printf("Each burst: 8 clients × 200 `GET /hello/`, each cancelled by the client after 0–3 ms (visitors navigating away). Counted: connections from Caddy to Gunicorn still open 0.5 s after the burst (they sit in Caddy's keep-alive pool for up to 2 min; each one a sync worker accepts blocks that worker). Most from one of 3 bursts; after each burst, concurrent normal requests through the same front drain the pool before the next:\n\n")
	b.printf("| front | idle upstream connections left |\n|---|---|\n")
	fronts := []struct {
		name string
		port int
		na   string
	}{
		{"django_files", b.ports.df, b.dfNA()},
		{"Caddy reverse_proxy, `transport http { keepalive off }`", b.ports.rk, ""},
		{"Caddy reverse_proxy (article)", b.ports.fs, ""},
	}
	for _, f := range fronts {
		if f.na != "" {
			b.printf("| %s | %s |\n", f.name, f.na)
			continue
		}
		most := 0
		for range 3 {
			before := establishedTo(g)
			cancelBurst(b.url(f.port, "/hello/"), 8, 200)
			time.Sleep(500 * time.Millisecond)
			n := 0
			for c := range establishedTo(g) {
				if !before[c] {
					n++
				}
			}
			most = max(most, n)
			if n > 0 {
				drain(b.url(f.port, "/hello/"), g, before, 15*time.Second)
			}
		}
		logf("  %s: %d idle upstream connections left", f.name, most)
		b.printf("| %s | %d |\n", f.name, most)
		if f.port == b.ports.df {
			v := "OK"
			if most > 0 {
				v = "MISS"
			}
			b.verdict("7", "idle upstream connections django_files keeps after cancelled requests", fmt.Sprint(most), "0", v)
		}
	}
	time.Sleep(time.Second)
	if n := countInFile(logPath, "WORKER TIMEOUT"); n > 0 {
		b.printf("\nGunicorn logged `WORKER TIMEOUT` %d time(s) in the plugin's Caddy during the whole run (%d before this section).\n", n, timeouts0)
	}
	t0 := time.Now()
	b.ps.stop(b.ours, 60*time.Second)
	b.printf("\nSIGTERM to the plugin's Caddy right after: it exited after %s (Gunicorn's graceful stop waits for workers blocked on those connections).\n", ms(time.Since(t0)))
	b.sectionFooter(m)
}

// errorLogSummary counts the error messages Caddy logged (http.log.error)
// since start, most frequent first.
func errorLogSummary(path string, since time.Time, who string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	counts := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		var e struct {
			Level  string  `json:"level"`
			TS     float64 `json:"ts"`
			Logger string  `json:"logger"`
			Msg    string  `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.Logger != "http.log.error" {
			continue
		}
		if time.Unix(0, int64(e.TS*1e9)).Before(since) {
			continue
		}
		counts[e.Msg]++
	}
	if len(counts) == 0 {
		return ""
	}
	msgs := make([]string, 0, len(counts))
	for m := range counts {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool { return counts[msgs[i]] > counts[msgs[j]] })
	out := fmt.Sprintf("Errors %s logged during this section (`http.log.error`):\n\n", who)
	for i, m := range msgs {
		if i == 5 {
			break
		}
		out += fmt.Sprintf("- %d× `%s`\n", counts[m], m)
	}
	return out + "\n"
}
