//go:build linux

// Command bench is the driver behind bench/run.sh: it starts every server
// (Caddy with the caddy-django plugin, plain Caddy, Gunicorn with WhiteNoise,
// nginx, supervisord + Caddy + Gunicorn) on 127.0.0.1 with fresh ports,
// measures them side by side in alternating rounds, prints a Markdown report
// and stops every process it started.
package main

import (
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

type ports struct {
	oursAdmin, gunicorn, fs, rb, rk, df, dfSpool int
	wn, nginx                                    int
	ceilCSS, ceilJS                              int // `respond` sites: the ceiling of a Caddy handler
	dfNoCache                                    int // django_files with `cache_size off`
}

type project struct {
	Root, Static, Media, Private, DB, Heartbeat string
	env                                         []string
	cssURL, jsURL                               string
	cssSize, jsSize, jsGzSize                   int64
	bigURL                                      string
	bigSize                                     int64
}

type verdict struct {
	section, measure, value, target, verdict string
}

type bench struct {
	root, work, caddyBin string
	rounds               int
	dur                  time.Duration
	pprof                bool
	sections             string // only these sections ("static"), or all
	caddyBase            string // §10: another build of Caddy to compare with (before / after)
	linkRate             string // §10's link to the bucket on its own machine (tc rate; "off")

	ps    *procs
	proj  project
	ports ports
	df    dfInfo

	ours        *proc
	oursWorkers int
	oursRev     int

	out      strings.Builder // the report
	verdicts []verdict
	notes    []string // findings for the "misses" section
	profiles []string
	waited   time.Duration // negative: gave up waiting for an idle machine
}

func main() {
	b := &bench{}
	flag.StringVar(&b.root, "root", ".", "repository root")
	flag.StringVar(&b.work, "work", "", "work directory (created by run.sh)")
	flag.StringVar(&b.caddyBin, "caddy", "", "Caddy binary with the plugin")
	flag.IntVar(&b.rounds, "rounds", 5, "alternating rounds per throughput measurement")
	flag.DurationVar(&b.dur, "duration", 3*time.Second, "wrk duration per measurement")
	flag.BoolVar(&b.pprof, "pprof", false, "always profile the django_files rows")
	flag.StringVar(&b.sections, "sections", "", "run only these sections (static: §1, handoff: §8, appservers: §9, media: §10, guards: §11, scale: §12); default all")
	flag.StringVar(&b.linkRate, "link-rate", "2gbit", "§10: rate of the link to the bucket on its own machine (tc's form: 2gbit, 1500mbit; off: same box only)")
	flag.StringVar(&b.caddyBase, "caddy-base", "", "§10: another Caddy binary with the plugin (e.g. main's), measured beside -caddy with the bucket on its own machine")
	flag.Parse()
	if b.work == "" || b.caddyBin == "" {
		fmt.Fprintln(os.Stderr, "usage: run through bench/run.sh")
		os.Exit(2)
	}
	b.root, _ = filepath.Abs(b.root)
	if b.caddyBase != "" {
		b.caddyBase, _ = filepath.Abs(b.caddyBase)
	}
	logDir := filepath.Join(b.work, "logs")
	_ = os.MkdirAll(logDir, 0o755)
	b.ps = &procs{marker: "CADDY_DJANGO_BENCH=" + b.work, logDir: logDir}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		logf("got %v: stopping everything we started", s)
		b.ps.stopAll()
		os.Exit(130)
	}()

	start := time.Now()
	err := b.run()
	b.ps.stopAll()
	fmt.Print(b.out.String())
	fmt.Printf("\nDriver runtime: %s (setup, all sections and cleanup; the build is extra).\n", time.Since(start).Round(time.Second))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench failed: %v\n", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(&b.out, format, args...) }

func (b *bench) verdict(section, measure, value, target, v string) {
	b.verdicts = append(b.verdicts, verdict{section, measure, value, target, v})
}

// waitQuiet waits (at most limit) until the machine has been mostly idle for
// 3 s in a row: other jobs on a shared machine skew every number.
func (b *bench) waitQuiet(limit time.Duration) {
	start := time.Now()
	quiet := 0
	busy0, total0 := machineTicks()
	for time.Since(start) < limit && quiet < 3 {
		time.Sleep(time.Second)
		busy, total := machineTicks()
		pct := 0.0
		if total > total0 {
			pct = 100 * float64(busy-busy0) / float64(total-total0)
		}
		busy0, total0 = busy, total
		if pct < 15 {
			quiet++
		} else {
			quiet = 0
		}
	}
	b.waited = time.Since(start).Round(time.Second)
	if quiet < 3 {
		logf("the machine is busy with other jobs; starting anyway after %s", b.waited)
		b.waited = -b.waited
	}
}

func (b *bench) run() error {
	logf("waiting (up to 30 s) for the machine to be idle")
	b.waitQuiet(30 * time.Second)
	if b.sections == "handoff" {
		b.df.reason = "not measured with BENCH_SECTIONS=handoff"
		b.header()
		b.sectionHandoff()
		b.summary()
		return nil
	}
	if b.sections == "media" {
		mods, _ := exec.Command(b.caddyBin, "list-modules").Output()
		b.df.ok = strings.Contains(string(mods), "http.handlers.django_files")
		b.df.reason = "handler not built"
		b.header()
		b.sectionBucketMedia()
		b.summary()
		return nil
	}
	if b.sections != "" && b.sections != "static" && b.sections != "appservers" && b.sections != "guards" && b.sections != "scale" {
		return fmt.Errorf("-sections %q: want static, handoff, appservers, media, guards or scale", b.sections)
	}
	if err := b.setup(); err != nil {
		return fmt.Errorf("setup: %v", err)
	}
	b.ports = ports{
		oursAdmin: freePort(), gunicorn: freePort(), fs: freePort(), rb: freePort(), rk: freePort(),
		df: freePort(), dfSpool: freePort(), wn: freePort(), nginx: freePort(),
		ceilCSS: freePort(), ceilJS: freePort(), dfNoCache: freePort(),
	}
	b.detectDF()
	b.header()
	if b.sections == "appservers" {
		b.sectionAppServers()
		b.summary()
		return nil
	}
	if b.sections == "guards" {
		b.sectionGuards()
		b.summary()
		return nil
	}
	if b.sections == "scale" {
		b.sectionScale()
		b.summary()
		return nil
	}

	logf("starting Caddy with the plugin (Gunicorn 3 workers), Gunicorn+WhiteNoise, nginx")
	if err := b.startOurs(); err != nil {
		return err
	}
	wnEnv := testkit.SetEnv(b.proj.env, "DJANGO_SETTINGS_MODULE", "demo.settings_whitenoise")
	wn, err := b.ps.spawn("gunicorn-whitenoise", b.proj.Root, wnEnv, "/usr/bin/gunicorn",
		"--bind", fmt.Sprintf("127.0.0.1:%d", b.ports.wn), "--workers", "3", "demo.wsgi:application")
	if err != nil {
		return err
	}
	ngxConf, err := b.nginxConf(filepath.Join(b.work, "nginx"), b.ports.nginx)
	if err != nil {
		return err
	}
	ngx, err := b.ps.spawn("nginx", b.work, b.proj.env, "nginx", "-c", ngxConf, "-p", filepath.Join(b.work, "nginx"),
		"-e", filepath.Join(b.work, "nginx", "logs", "error.log"))
	if err != nil {
		return err
	}
	for _, u := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/hello/", b.ports.wn),
		fmt.Sprintf("http://127.0.0.1:%d%s", b.ports.nginx, b.proj.cssURL),
	} {
		if err := waitHTTP(u, 60*time.Second); err != nil {
			return err
		}
	}

	b.sectionStatic()
	if b.sections == "static" {
		b.summary()
		return nil
	}
	b.sectionMedia()
	b.sectionProxy()
	b.ps.stop(ngx, 10*time.Second)

	b.sectionSlowClients()
	b.sectionFailures(wn)
	b.ps.stop(wn, 40*time.Second)
	b.sectionCancelled() // last on the plugin's Caddy; stops it

	b.sectionBoot()
	b.sectionHandoff()
	b.sectionAppServers()
	b.sectionBucketMedia()
	b.sectionGuards()
	b.sectionScale()
	b.summary()
	return nil
}

// --- setup ------------------------------------------------------------------

func (b *bench) setup() error {
	logf("preparing the demo project (migrate, collectstatic, whitenoise.compress, 50 MB media file)")
	root := filepath.Join(b.work, "project")
	if err := testkit.CopyTree(filepath.Join(b.root, "testdata", "demo"), root, func(name string) bool { return demoSkip[name] }); err != nil {
		return err
	}
	p := project{
		Root: root, Static: filepath.Join(root, "static_root"), Media: filepath.Join(root, "media_root"),
		Private: filepath.Join(root, "private_files"), DB: filepath.Join(root, "db.sqlite3"),
		Heartbeat: filepath.Join(root, "worker_heartbeat.txt"),
	}
	env := os.Environ()
	for k, v := range map[string]string{
		"DJANGO_SETTINGS_MODULE":  "demo.settings",
		"DJANGO_STATIC_ROOT":      p.Static,
		"DJANGO_MEDIA_ROOT":       p.Media,
		"DJANGO_PRIVATE_ROOT":     p.Private,
		"DJANGO_DB_PATH":          p.DB,
		"DJANGO_HEARTBEAT_FILE":   p.Heartbeat,
		"PYTHONDONTWRITEBYTECODE": "1",
		"XDG_DATA_HOME":           filepath.Join(b.work, "xdg", "data"),
		"XDG_CONFIG_HOME":         filepath.Join(b.work, "xdg", "config"),
	} {
		env = testkit.SetEnv(env, k, v)
	}
	p.env = env
	b.proj = p
	for _, args := range [][]string{
		{"/usr/bin/python3", "manage.py", "migrate", "--noinput"},
		{"/usr/bin/python3", "manage.py", "collectstatic", "--noinput"},
		{"/usr/bin/python3", "-m", "whitenoise.compress", p.Static},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = root, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	var manifest struct {
		Paths map[string]string `json:"paths"`
	}
	data, err := os.ReadFile(filepath.Join(p.Static, "staticfiles.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		return err
	}
	css, js := manifest.Paths["css/app.css"], manifest.Paths["js/app.js"]
	if css == "" || js == "" {
		return fmt.Errorf("staticfiles.json lacks css/app.css or js/app.js")
	}
	b.proj.cssURL, b.proj.jsURL = "/static/"+css, "/static/"+js
	b.proj.cssSize = fileSize(filepath.Join(p.Static, css))
	b.proj.jsSize = fileSize(filepath.Join(p.Static, js))
	b.proj.jsGzSize = fileSize(filepath.Join(p.Static, js) + ".gz")
	if b.proj.jsGzSize <= 0 {
		return fmt.Errorf("whitenoise.compress wrote no %s.gz", js)
	}

	if err := os.MkdirAll(p.Media, 0o755); err != nil {
		return err
	}
	big := filepath.Join(p.Media, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		return err
	}
	const bigSize = 50 << 20
	if _, err := io.CopyN(f, rand.Reader, bigSize); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	b.proj.bigURL, b.proj.bigSize = "/media/big.bin", bigSize
	// random 1 MiB ranges for wrk
	lua := fmt.Sprintf(`math.randomseed(42)
request = function()
	local i = math.random(0, %d)
	return wrk.format(nil, nil, {["Range"] = "bytes=" .. (i * 1048576) .. "-" .. ((i + 1) * 1048576 - 1)})
end
`, bigSize/(1<<20)-1)
	return os.WriteFile(filepath.Join(b.work, "ranges.lua"), []byte(lua), 0o644)
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

// demoSkip leaves the demo's generated files out of the copy: the benchmark
// runs migrate and collectstatic itself.
var demoSkip = map[string]bool{"__pycache__": true, "static_root": true, "media_root": true, "db.sqlite3": true, "worker_heartbeat.txt": true}

// --- the plugin's Caddy -------------------------------------------------------

func (b *bench) adminURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", b.ports.oursAdmin, path)
}

func (b *bench) startOurs() error {
	b.oursWorkers, b.oursRev = 3, 0
	cf := filepath.Join(b.work, "ours.Caddyfile")
	if err := os.WriteFile(cf, []byte(b.oursCaddyfile(3, 0)), 0o644); err != nil {
		return err
	}
	p, err := b.ps.spawn("caddy-ours", b.proj.Root, b.proj.env, b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	if err != nil {
		return err
	}
	b.ours = p
	if err := waitHTTP(b.adminURL("/config/"), 30*time.Second); err != nil {
		return fmt.Errorf("caddy with the plugin: %v (see %s)", err, p.cmd.Stdout.(*os.File).Name())
	}
	if err := b.waitGunicorn(0, 60*time.Second); err != nil {
		return err
	}
	return waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/hello/", b.ports.fs), 60*time.Second)
}

type procStatus struct {
	Name  string `json:"name"`
	State string `json:"state"`
	PID   int    `json:"pid"`
}

func (b *bench) gunicornStatus() (procStatus, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(b.adminURL("/django/processes"))
	if err != nil {
		return procStatus{}, err
	}
	defer resp.Body.Close()
	var list []procStatus
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return procStatus{}, err
	}
	for _, s := range list {
		if s.Name == "gunicorn" {
			return s, nil
		}
	}
	return procStatus{}, fmt.Errorf("no gunicorn in /django/processes")
}

// waitGunicorn waits until Gunicorn is RUNNING with a pid other than notPID.
func (b *bench) waitGunicorn(notPID int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last procStatus
	for time.Now().Before(deadline) {
		if st, err := b.gunicornStatus(); err == nil {
			last = st
			if st.State == "RUNNING" && st.PID != 0 && st.PID != notPID {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("gunicorn not RUNNING after %s (last %+v)", timeout, last)
}

func postAdmin(url, contentType, body string) error {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 180 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(out)))
	}
	return nil
}

// reloadOurs loads the plugin's config with workers and header revision
// (nothing when both are unchanged) and waits until Gunicorn is RUNNING.
// The reload itself returns once a replaced Gunicorn serves.
func (b *bench) reloadOurs(workers, rev int) error {
	if workers == b.oursWorkers && rev == b.oursRev {
		return nil
	}
	b.oursWorkers, b.oursRev = workers, rev
	if err := postAdmin(b.adminURL("/load"), "text/caddyfile", b.oursCaddyfile(workers, rev)); err != nil {
		return err
	}
	return b.waitGunicorn(0, 60*time.Second)
}

// --- report header and summary -----------------------------------------------

func cmdOut(argv ...string) string {
	out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	return strings.TrimSpace(string(out))
}

func (b *bench) header() {
	cpu := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				_, cpu, _ = strings.Cut(line, ":")
				cpu = strings.TrimSpace(cpu)
				break
			}
		}
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.SplitN(string(data), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	caddyV, _, _ := strings.Cut(cmdOut(b.caddyBin, "version"), " ")
	wn := cmdOut("/usr/bin/python3", "-c", "import importlib.metadata as m; print(m.version('whitenoise'))")
	if strings.Contains(wn, "Error") {
		wn = cmdOut("dpkg-query", "-W", "-f=${Version}", "python3-whitenoise")
	}
	wrkV, _, _ := strings.Cut(cmdOut("wrk", "-v"), " [")
	b.printf("# caddy-django benchmark\n\n")
	b.printf("Command: `bench/run.sh` (%d rounds of wrk -t1 -c32 -d%s per target unless noted; the two targets compared run next to each other, in turns first; req/s cells are the median over rounds with the range in brackets; a ratio is the median of the per-round ratios, leaving out rounds in which other processes used more than %.0f%% of the machine when at least two clean rounds remain)\n\n", b.rounds, b.dur, noisyRun)
	b.printf("| | |\n|---|---|\n")
	b.printf("| CPU | %d × %s |\n", runtime.NumCPU(), cpu)
	b.printf("| memory | %s |\n", mem)
	b.printf("| kernel | %s |\n", strings.TrimSpace(string(kernel)))
	b.printf("| Caddy | %s (built from this tree with the plugin) |\n", caddyV)
	b.printf("| Gunicorn | %s (sync workers) |\n", strings.TrimPrefix(cmdOut("/usr/bin/gunicorn", "--version"), "gunicorn "))
	b.printf("| Django | %s on %s |\n", cmdOut("/usr/bin/python3", "-c", "import django; print(django.get_version())"), cmdOut("/usr/bin/python3", "--version"))
	b.printf("| WhiteNoise | %s |\n", wn)
	b.printf("| nginx | %s |\n", strings.TrimPrefix(cmdOut("nginx", "-v"), "nginx version: "))
	b.printf("| supervisor | %s |\n", cmdOut("supervisord", "--version"))
	b.printf("| wrk | %s |\n", wrkV)
	b.printf("| Go (driver) | %s |\n", runtime.Version())
	if b.df.ok {
		b.printf("| django_files | built; `%s` spools bodies over 4 KiB to a temporary file; no option turns request buffering off (plain reverse_proxy is the unbuffered case) |\n", dfSpool)
	} else {
		b.printf("| django_files | **%s**: its rows print n/a |\n", b.df.reason)
	}
	quiet := fmt.Sprintf("idle after waiting %s", b.waited)
	if b.waited < 0 {
		quiet = fmt.Sprintf("**busy with other jobs** (gave up waiting after %s)", -b.waited)
	}
	b.printf("| machine at start | %s; loadavg %s |\n\n", quiet, loadavg())
}

func (b *bench) sectionHeader(title string) *cpuMeter {
	b.printf("\n## %s\n\n", title)
	logf("section: %s", title)
	return newCPUMeter()
}

func (b *bench) sectionFooter(m *cpuMeter) {
	f := m.foreign()
	b.printf("\n_Other processes on the machine used %.0f%% of its CPU during this section (loadavg %s at start, %s at end, %s)._\n",
		f, m.load0, loadavg(), time.Since(m.start).Round(time.Second))
	if f > 10 {
		b.printf("_**Noisy**: the ratios are from alternating rounds so they suffer less than the absolute numbers, but rerun on a quiet machine before trusting small differences._\n")
	}
}

func (b *bench) summary() {
	var out strings.Builder
	fmt.Fprintf(&out, "\n## Summary: ratios and targets (all from this run)\n\n")
	fmt.Fprintf(&out, "| § | measure | value | target | verdict |\n|---|---|---|---|---|\n")
	for _, v := range b.verdicts {
		fmt.Fprintf(&out, "| %s | %s | %s | %s | %s |\n", v.section, v.measure, v.value, v.target, v.verdict)
	}
	var misses []string
	for _, v := range b.verdicts {
		if strings.HasPrefix(v.verdict, "MISS") {
			misses = append(misses, fmt.Sprintf("§%s %s: %s (target %s)", v.section, v.measure, v.value, v.target))
		}
	}
	fmt.Fprintf(&out, "\n### Missed targets\n\n")
	if len(misses) == 0 {
		fmt.Fprintf(&out, "None measured as missed in this run")
		if !b.df.ok {
			fmt.Fprintf(&out, " (the django_files rows are n/a: %s)", b.df.reason)
		}
		fmt.Fprintf(&out, ".\n")
	}
	for _, m := range misses {
		fmt.Fprintf(&out, "- %s\n", m)
	}
	for _, n := range b.notes {
		fmt.Fprintf(&out, "- %s\n", n)
	}
	for _, p := range b.profiles {
		fmt.Fprintf(&out, "\n%s\n", p)
	}
	// the summary goes first: readers want the ratios, details follow
	body := b.out.String()
	i := strings.Index(body, "\n## ")
	if i < 0 {
		i = len(body)
	}
	b.out.Reset()
	b.out.WriteString(body[:i] + out.String() + body[i:])
}

// --- small statistics -----------------------------------------------------------

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64{}, xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func spread(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return
}

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
