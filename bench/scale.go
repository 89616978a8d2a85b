//go:build linux

package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// --- §12 scale ----------------------------------------------------------------

// §12 measures how the cost grows: a curve of 3 points per resource, each
// point on a freshly started server, with the plain Caddy (or supervisord)
// alternative in the same run. The points can be changed with
// BENCH_SCALE_WS, BENCH_SCALE_UPLOADS, BENCH_SCALE_PROCS and
// BENCH_SCALE_FILES (space-separated counts; "0" skips that part).

func (b *bench) sectionScale() {
	m := b.sectionHeader("12. Scale: how the cost grows")
	b.printf("Each point runs on a freshly started server (memory is the server's RSS from `/proc`, which Go gives back to the system only slowly: a later point on the same process would inherit the earlier one's peak). Absolute times depend on the machine's load; the curves' shapes are the point.\n")
	b.scaleWebsockets()
	b.scaleUploads()
	b.scaleProcesses()
	b.scaleManifest()
	b.sectionFooter(m)
}

// scalePoints is the counts of env (BENCH_SCALE_...), else def.
func scalePoints(env string, def ...int) []int {
	f := strings.Fields(os.Getenv(env))
	if len(f) == 0 {
		return def
	}
	var out []int
	for _, s := range f {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// fdLimit is the most files a Caddy the driver starts may open (Go raises
// its soft limit to the hard one).
func fdLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 1024
	}
	return int(l.Max)
}

func kib(kb int) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// rssKB is pid's resident memory in KiB.
func rssKB(pid int) int {
	rss, _ := memKB(pid)
	return rss
}

// inParallel runs fn(i) for i in [0, n) on at most par goroutines.
func inParallel(n, par int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, par) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// startScaleCaddy writes caddyfile and starts a Caddy on it, waiting until
// url answers 200 (or only until the admin API answers when url is "").
func (b *bench) startScaleCaddy(name, caddyfile string, admin int, url string) (*proc, error) {
	cf := filepath.Join(b.work, name+".Caddyfile")
	if err := os.WriteFile(cf, []byte(caddyfile), 0o644); err != nil {
		return nil, err
	}
	p, err := b.ps.spawn(name, b.proj.Root, b.proj.env, b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	if err != nil {
		return nil, err
	}
	if url == "" {
		url = fmt.Sprintf("http://127.0.0.1:%d/config/", admin)
	}
	if err := waitHTTP(url, 120*time.Second); err != nil {
		b.ps.stop(p, 30*time.Second)
		return nil, fmt.Errorf("%v (see %s)", err, p.cmd.Stdout.(*os.File).Name())
	}
	return p, nil
}

// quick runs a short command (marked as ours, not logged to a file) and
// returns its output.
func (b *bench) quick(argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), b.ps.marker)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// loadCaddyfile loads caddyfile into the Caddy at admin and returns how
// long the load took (it returns once the new config runs).
func loadCaddyfile(admin int, caddyfile string) (time.Duration, error) {
	t0 := time.Now()
	err := postAdmin(fmt.Sprintf("http://127.0.0.1:%d/load", admin), "text/caddyfile", caddyfile)
	return time.Since(t0), err
}

// --- idle websockets ------------------------------------------------------------

// wsClient is one idle websocket: it answers the server's pings (uvicorn
// closes a websocket that does not) and hands text frames to echo.
type wsClient struct {
	ws     *testkit.WS
	wmu    sync.Mutex
	text   chan string
	closed chan struct{}
}

func dialWS(addr string) (*wsClient, error) {
	ws, err := testkit.DialWebsocket(addr, "/ws/echo/", 60*time.Second)
	if err != nil {
		return nil, err
	}
	c := &wsClient{ws: ws, text: make(chan string, 1), closed: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *wsClient) read() {
	defer close(c.closed)
	for {
		op, payload, err := testkit.ReadFrame(c.ws.R)
		if err != nil {
			return
		}
		switch op {
		case testkit.OpPing:
			c.write(testkit.Frame(testkit.OpPong, payload))
		case testkit.OpText:
			select {
			case c.text <- string(payload):
			default:
			}
		case testkit.OpClose:
			return
		}
	}
}

func (c *wsClient) write(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := c.ws.Write(frame)
	return err
}

// echo reports whether msg comes back within timeout.
func (c *wsClient) echo(msg string, timeout time.Duration) bool {
	if c.write(testkit.TextFrame(msg)) != nil {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case got := <-c.text:
		return got == msg
	case <-c.closed:
	case <-t.C:
	}
	return false
}

// wsResult is one point of the websocket curve.
type wsResult struct {
	n, opened, alive       int
	rss0, rss1, rss2       int // KiB: before, with n open, after the reload
	open, reload           time.Duration
	fds0, fds1             int
	goroutine0, goroutine1 int
	err                    string
}

func (r wsResult) perConn() string {
	if r.opened == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f KiB", float64(r.rss1-r.rss0)/float64(r.opened))
}

// wsCaddyfile: uvicorn (1 process) for the demo's ASGI app, django_files on
// df, a plain reverse_proxy to uvicorn's bind on rp; rev is a header (a
// reload that changes nothing else).
func (b *bench) wsCaddyfile(admin, bind, df, rp, rev int) string {
	django := fmt.Sprintf(`	django {
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		uvicorn demo.asgi:application {
			bind 127.0.0.1:%d
			workers 1
		}
	}
`, b.proj.Root, bind)
	return globalOptions(admin, django) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\theader X-Rev %d\n\tdjango_files\n}\n", df, rev) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\theader X-Rev %d\n\treverse_proxy 127.0.0.1:%d\n}\n", rp, rev, bind)
}

func openFDs(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

func (b *bench) wsRun(viaDF bool, n int) (res wsResult) {
	res.n = n
	admin, bind, df, rp := freePort(), freePort(), freePort(), freePort()
	port, name := rp, "scale-ws-rp"
	if viaDF {
		port, name = df, "scale-ws-df"
	}
	p, err := b.startScaleCaddy(name, b.wsCaddyfile(admin, bind, df, rp, 0), admin, b.url(port, "/hello/"))
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer b.ps.stop(p, 60*time.Second)
	pid := p.pid()
	time.Sleep(time.Second)
	res.rss0, res.fds0, res.goroutine0 = rssKB(pid), openFDs(pid), testkit.Goroutines(admin)

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	clients := make([]*wsClient, n)
	var errs sync.Map
	t0 := time.Now()
	inParallel(n, 64, func(i int) {
		c, err := dialWS(addr)
		if err != nil {
			errs.Store(err.Error(), true)
			return
		}
		clients[i] = c
	})
	res.open = time.Since(t0)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.ws.Close()
			}
		}
	}()
	for _, c := range clients {
		if c != nil {
			res.opened++
		}
	}
	errs.Range(func(k, _ any) bool {
		res.err = k.(string)
		return false
	})
	time.Sleep(3 * time.Second) // let the servers settle
	res.rss1, res.fds1, res.goroutine1 = rssKB(pid), openFDs(pid), testkit.Goroutines(admin)
	logf("  %s: %d/%d open in %s, RSS %s → %s", name, res.opened, n, ms(res.open), kib(res.rss0), kib(res.rss1))

	res.reload, err = loadCaddyfile(admin, b.wsCaddyfile(admin, bind, df, rp, 1))
	if err != nil {
		res.err = "reload: " + err.Error()
		return res
	}
	time.Sleep(2 * time.Second)
	var alive atomic.Int64
	inParallel(n, 64, func(i int) {
		if c := clients[i]; c != nil && c.echo("still there", 30*time.Second) {
			alive.Add(1)
		}
	})
	res.alive = int(alive.Load())
	res.rss2 = rssKB(pid)
	logf("  %s: reload took %s, %d/%d still echo", name, ms(res.reload), res.alive, res.opened)
	return res
}

func (b *bench) scaleWebsockets() {
	points := scalePoints("BENCH_SCALE_WS", 1000, 5000, 10000)
	if len(points) == 0 {
		return
	}
	limit := fdLimit()
	b.printf("\n### 12a. Idle websockets\n\n")
	b.printf("N clients open a websocket to the demo's ASGI echo (`/ws/echo/`, uvicorn, 1 process) through `django_files` or through a plain `reverse_proxy` to the same uvicorn, 64 at a time, and stay idle (they answer uvicorn's pings); then a config reload that changes a header, after which each one must still echo a message. Memory per connection is (RSS with N open − RSS before) / N. A websocket costs Caddy two file descriptors (client and upstream): with this machine's `ulimit -n` (hard) of %d, a point above %d is capped.\n\n", limit, (limit-300)/2)
	b.printf("| websockets | front | opened (time) | Caddy RSS before → with N open | per connection | goroutines / fds with N open | reload took | still open after the reload | RSS after |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, n := range points {
		capped := min(n, (limit-300)/2)
		for _, viaDF := range []bool{true, false} {
			front := "Caddy `reverse_proxy`"
			if viaDF {
				front = "django_files"
			}
			r := b.wsRun(viaDF, capped)
			label := commas(int64(n))
			if capped < n {
				label = fmt.Sprintf("%s (capped at %s: ulimit -n)", label, commas(int64(capped)))
			}
			if r.opened == 0 {
				b.printf("| %s | %s | failed: %s | | | | | | |\n", label, front, r.err)
				continue
			}
			note := ""
			if r.err != "" {
				note = " ⚠ " + r.err
			}
			b.printf("| %s | %s | %d (%s)%s | %s → %s | %s | %d / %d | %s | %d of %d | %s |\n", label, front, r.opened, ms(r.open), note,
				kib(r.rss0), kib(r.rss1), r.perConn(), r.goroutine1, r.fds1, ms(r.reload), r.alive, r.opened, kib(r.rss2))
			if viaDF {
				v := "OK"
				if r.alive < r.opened || r.opened < capped {
					v = "MISS"
				}
				b.verdict("12", fmt.Sprintf("%s idle websockets through django_files: open after a config reload", label), fmt.Sprintf("%d of %d (%s per connection)", r.alive, capped, r.perConn()), "all", v)
			}
		}
	}
}

// --- slow uploads -----------------------------------------------------------------

const (
	uploadSize  = 10 << 20
	uploadChunk = 64 << 10
	uploadEvery = 62500 * time.Microsecond // 1 MiB/s
)

// uploadResult is one point of the slow-upload curve.
type uploadResult struct {
	n, ok                int
	rss0, rssPeak        int   // Caddy, KiB
	diskPeak             int64 // bytes of request bodies Caddy spooled to disk, at most
	busyBefore, busyPeak int   // app server workers busy before the first body was sent whole / at most
	firstDone, took      time.Duration
	err                  string
}

// uploadCaddyfile: Gunicorn (3 sync workers) behind django_files on df
// (default buffering: 1 MiB in memory, then a temporary file) and a plain
// reverse_proxy (streams the body) on rp.
func (b *bench) uploadCaddyfile(admin, g, df, rp int) string {
	return globalOptions(admin, b.djangoBlock(g, 3, false)) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files\n}\n", df) +
		fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\treverse_proxy 127.0.0.1:%d\n}\n", rp, g)
}

// listeningSockets is the inodes of the listening TCP and unix sockets.
func listeningSockets() map[string]bool {
	out := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 9 && fs[3] == "0A" { // TCP_LISTEN
				out[fs[9]] = true
			}
		}
	}
	data, _ := os.ReadFile("/proc/net/unix")
	for _, line := range strings.Split(string(data), "\n")[1:] {
		fs := strings.Fields(line)
		// Flags __SO_ACCEPTCON (00010000): a listening socket
		if len(fs) > 6 && fs[3] == "00010000" {
			out[fs[6]] = true
		}
	}
	return out
}

// busyWorkers counts the workers of the app server whose master is pid
// that hold a connection (a sync worker serves one request at a time and
// holds its connection until the answer is sent).
func busyWorkers(master int) int {
	listening := listeningSockets()
	busy := 0
	for _, w := range testkit.Descendants(master) {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", w))
		for _, e := range ents {
			link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", w, e.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if !listening[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				busy++
				break
			}
		}
	}
	return busy
}

// spooledBytes is the size of the deleted temporary files pid holds open
// (request bodies django_files spooled to disk).
func spooledBytes(pid int) int64 {
	var total int64
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, e := range ents {
		fd := fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasSuffix(link, " (deleted)") || !strings.Contains(link, "caddy-django-body-") {
			continue
		}
		if st, err := os.Stat(fd); err == nil {
			total += st.Size()
		}
	}
	return total
}

// gunicornPID is the pid of the app server named gunicorn of the Caddy at
// admin.
func gunicornPID(admin int) int {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/django/processes", admin))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var list []procStatus
	_ = json.NewDecoder(resp.Body).Decode(&list)
	for _, s := range list {
		if s.Name == "gunicorn" && s.State == "RUNNING" {
			return s.PID
		}
	}
	return 0
}

// slowUpload POSTs uploadSize bytes to /echo-size/ at addr, uploadChunk
// every uploadEvery, calls sent once the body is written whole, and
// reports whether Django saw all of it.
func slowUpload(addr string, sent func()) bool {
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Minute))
	if _, err := fmt.Fprintf(conn, "POST /echo-size/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", addr, uploadSize); err != nil {
		return false
	}
	chunk := make([]byte, uploadChunk)
	tick := time.NewTicker(uploadEvery)
	defer tick.Stop()
	for n := 0; n < uploadSize; n += uploadChunk {
		<-tick.C
		if _, err := conn.Write(chunk[:min(uploadChunk, uploadSize-n)]); err != nil {
			return false
		}
	}
	sent()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && strings.Contains(string(body), fmt.Sprintf(`"size": %d`, uploadSize))
}

func (b *bench) uploadRun(viaDF bool, n int) (res uploadResult) {
	res.n = n
	admin, g, df, rp := freePort(), freePort(), freePort(), freePort()
	port, name := rp, "scale-up-rp"
	if viaDF {
		port, name = df, "scale-up-df"
	}
	p, err := b.startScaleCaddy(name, b.uploadCaddyfile(admin, g, df, rp), admin, b.url(port, "/hello/"))
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer b.ps.stop(p, 60*time.Second)
	pid := p.pid()
	master := 0
	for deadline := time.Now().Add(60 * time.Second); master == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		master = gunicornPID(admin)
	}
	if master == 0 {
		res.err = "gunicorn not RUNNING after 60 s"
		return res
	}
	time.Sleep(time.Second)
	res.rss0 = rssKB(pid)

	var ok, sent atomic.Int64
	var firstDone atomic.Int64 // ns since t0
	stop := make(chan struct{})
	sampled := make(chan struct{})
	t0 := time.Now()
	go func() {
		defer close(sampled)
		for {
			busy := busyWorkers(master)
			if sent.Load() == 0 { // no body was whole during the whole scan
				res.busyBefore = max(res.busyBefore, busy)
			}
			res.busyPeak = max(res.busyPeak, busy)
			res.rssPeak = max(res.rssPeak, rssKB(pid))
			res.diskPeak = max(res.diskPeak, spooledBytes(pid))
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	inParallel(n, n, func(int) {
		good := slowUpload(addr, func() { sent.Add(1) })
		firstDone.CompareAndSwap(0, int64(time.Since(t0)))
		if good {
			ok.Add(1)
		}
	})
	res.took = time.Since(t0)
	close(stop)
	<-sampled
	res.ok, res.firstDone = int(ok.Load()), time.Duration(firstDone.Load())
	logf("  %s: %d/%d uploads OK in %s; RSS peak %s, spooled peak %d MiB, workers busy before a body was whole %d (peak %d)",
		name, res.ok, n, ms(res.took), kib(res.rssPeak), res.diskPeak>>20, res.busyBefore, res.busyPeak)
	return res
}

func (b *bench) scaleUploads() {
	points := scalePoints("BENCH_SCALE_UPLOADS", 50, 200, 500)
	if len(points) == 0 {
		return
	}
	b.printf("\n### 12b. Concurrent slow uploads\n\n")
	b.printf("N clients each POST 10 MiB to `/echo-size/` (Django reads and hashes the body) at 1 MiB/s (64 KiB every 62.5 ms, 10 s at best), all at once, through `django_files` (default buffering: 1 MiB in memory, the rest to an unlinked temporary file) or a plain `reverse_proxy` (streams the body to Gunicorn as it comes). Gunicorn has 3 sync workers. Sampled every 100 ms: Caddy's RSS, the bytes of the bodies it holds in temporary files, and the Gunicorn workers that hold a connection (busy: a sync worker serves one request at a time).\n\n")
	b.printf("| uploads | front | OK | all done after | Caddy RSS before → peak | per upload | spooled to disk (peak) | workers busy before a body is whole | workers busy (peak) |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, n := range points {
		for _, viaDF := range []bool{true, false} {
			front := "Caddy `reverse_proxy`"
			if viaDF {
				front = "django_files"
			}
			r := b.uploadRun(viaDF, n)
			if r.err != "" {
				b.printf("| %d | %s | failed: %s | | | | | | |\n", n, front, r.err)
				continue
			}
			per := fmt.Sprintf("%.0f KiB", float64(r.rssPeak-r.rss0)/float64(n))
			b.printf("| %d | %s | %d | %s | %s → %s | %s | %d MiB | %d | %d |\n", n, front, r.ok, ms(r.took), kib(r.rss0), kib(r.rssPeak), per, r.diskPeak>>20, r.busyBefore, r.busyPeak)
			if viaDF {
				v := "OK"
				if r.busyBefore > 0 || r.ok < n {
					v = "MISS"
				}
				b.verdict("12", fmt.Sprintf("%d slow 10 MiB uploads through django_files: workers busy before a body is complete", n), fmt.Sprintf("%d (%d/%d OK, %s RSS per upload)", r.busyBefore, r.ok, n, per), "0", v)
			}
		}
	}
}

// --- supervised processes -------------------------------------------------------------

// procResult is one point of the process curve.
type procResult struct {
	n                     int
	start                 time.Duration // from exec to every process RUNNING
	status, statusAPI     time.Duration // the status command (CLI) and the admin API's GET, median of 5
	reload                time.Duration // a reload that changes only a header, median of 3
	rss, helpers, helperN int           // KiB: the manager alone; its helper processes (not the N programs), PSS
	threads               int
	idleCPU               float64 // % of one core the manager uses while nothing happens (10 s)
	err                   string
}

func (b *bench) procsCaddyfile(admin, site, n, rev int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\tdjango {\n\t\troot %s\n", b.proj.Root)
	for i := range n {
		fmt.Fprintf(&sb, "\t\tprocess p%d /bin/sleep 1000000\n", i)
	}
	sb.WriteString("\t}\n")
	return globalOptions(admin, sb.String()) + fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\theader X-Rev %d\n\trespond ok\n}\n", site, rev)
}

func supervisorProcsConf(dir string, n int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "[unix_http_server]\nfile=%[1]s/supervisor.sock\n\n[supervisord]\nnodaemon=true\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n[supervisorctl]\nserverurl=unix://%[1]s/supervisor.sock\n", dir)
	for i := range n {
		fmt.Fprintf(&sb, "\n[program:p%d]\ncommand=/bin/sleep 1000000\nstdout_logfile=NONE\nstderr_logfile=NONE\n", i)
	}
	return sb.String()
}

// timeMedian runs fn k times and returns the median duration (and the last
// error).
func timeMedian(k int, fn func() error) (time.Duration, error) {
	var ds []float64
	var last error
	for range k {
		t0 := time.Now()
		if err := fn(); err != nil {
			last = err
		}
		ds = append(ds, float64(time.Since(t0)))
	}
	return time.Duration(median(ds)), last
}

// cpuPercent is the % of one core pid (alone) uses over d.
func cpuPercent(pid int, d time.Duration) float64 {
	t0 := cpuTicks(pid)
	time.Sleep(d)
	return 100 * float64(cpuTicks(pid)-t0) / clockTicks / d.Seconds()
}

// helperPSS sums the PSS of pid's descendants that are not one of the
// supervised programs (whose command is /bin/sleep): their RSS would count
// the pages the shells share once per shell.
func helperPSS(pid int) (kb, n int) {
	for _, d := range testkit.Descendants(pid) {
		if strings.HasPrefix(cmdline(d), "/bin/sleep") {
			continue
		}
		_, pss := memKB(d)
		kb += pss
		n++
	}
	return
}

// threads is the number of OS threads of pid.
func threads(pid int) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// manager is how §12c drives a process manager: the processes RUNNING,
// its status command, a reload that changes nothing the processes use.
type manager struct {
	running func() (int, error)
	status  func() error
	reload  func(i int) error
}

// measureManager waits (from t0) until the n processes of the manager pid
// are RUNNING, then measures it.
func measureManager(pid, n int, t0 time.Time, m manager) (res procResult) {
	res.n = n
	for {
		if k, _ := m.running(); k == n {
			break
		}
		if time.Since(t0) > 3*time.Minute {
			res.err = "not all RUNNING after 3 min"
			return res
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.start = time.Since(t0)
	time.Sleep(2 * time.Second)
	res.idleCPU = cpuPercent(pid, 10*time.Second)
	res.rss = rssKB(pid)
	res.helpers, res.helperN = helperPSS(pid)
	res.threads = threads(pid)
	var err error
	if res.status, err = timeMedian(5, m.status); err != nil {
		res.err = "status: " + err.Error()
	}
	i := 0
	if res.reload, err = timeMedian(3, func() error { i++; return m.reload(i) }); err != nil {
		res.err = "reload: " + err.Error()
	}
	if k, _ := m.running(); k != n {
		res.err = fmt.Sprintf("%d of %d RUNNING after the reloads", k, n)
	}
	return res
}

func (b *bench) procsOurs(n int) procResult {
	admin, site := freePort(), freePort()
	cf := filepath.Join(b.work, "scale-procs.Caddyfile")
	if err := os.WriteFile(cf, []byte(b.procsCaddyfile(admin, site, n, 0)), 0o644); err != nil {
		return procResult{n: n, err: err.Error()}
	}
	t0 := time.Now()
	p, err := b.ps.spawn("scale-procs", b.proj.Root, b.proj.env, b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	if err != nil {
		return procResult{n: n, err: err.Error()}
	}
	defer b.ps.stop(p, 60*time.Second)
	api := fmt.Sprintf("http://127.0.0.1:%d/django/processes", admin)
	running := func() (int, error) {
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(api)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var list []procStatus
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return 0, err
		}
		k := 0
		for _, s := range list {
			if s.State == "RUNNING" {
				k++
			}
		}
		return k, nil
	}
	res := measureManager(p.pid(), n, t0, manager{
		running: running,
		status: func() error {
			out, err := b.quick(b.caddyBin, "django", "status", "--address", fmt.Sprintf("127.0.0.1:%d", admin))
			if err != nil {
				return fmt.Errorf("%v: %s", err, firstLine(out))
			}
			return nil
		},
		reload: func(i int) error {
			_, err := loadCaddyfile(admin, b.procsCaddyfile(admin, site, n, i))
			return err
		},
	})
	res.statusAPI, _ = timeMedian(5, func() error { _, err := running(); return err })
	logf("  Caddy, %d processes: all RUNNING after %s, status %s, reload %s, RSS %s, idle CPU %.1f%%", n, ms(res.start), ms(res.status), ms(res.reload), kib(res.rss), res.idleCPU)
	return res
}

func (b *bench) procsSupervisord(n int) procResult {
	dir := filepath.Join(b.work, fmt.Sprintf("scale-sup-%d", n))
	_ = os.MkdirAll(dir, 0o755)
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(supervisorProcsConf(dir, n)), 0o644); err != nil {
		return procResult{n: n, err: err.Error()}
	}
	t0 := time.Now()
	p, err := b.ps.spawn("scale-supervisord", dir, b.proj.env, "supervisord", "-c", conf, "-n")
	if err != nil {
		return procResult{n: n, err: err.Error()}
	}
	defer b.ps.stop(p, 60*time.Second)
	ctl := func(args ...string) error {
		out, err := b.quick(append([]string{"supervisorctl", "-c", conf}, args...)...)
		if err != nil {
			return fmt.Errorf("%v: %s", err, firstLine(out))
		}
		return nil
	}
	res := measureManager(p.pid(), n, t0, manager{
		running: func() (int, error) {
			out, err := b.quick("supervisorctl", "-c", conf, "status")
			return strings.Count(out, "RUNNING"), err
		},
		status: func() error { return ctl("status") },
		reload: func(int) error { return ctl("update") },
	})
	logf("  supervisord, %d programs: all RUNNING after %s, status %s, update %s, RSS %s, idle CPU %.1f%%", n, ms(res.start), ms(res.status), ms(res.reload), kib(res.rss), res.idleCPU)
	return res
}

func (b *bench) scaleProcesses() {
	points := scalePoints("BENCH_SCALE_PROCS", 10, 50, 200)
	if len(points) == 0 {
		return
	}
	b.printf("\n### 12c. Supervised processes\n\n")
	b.printf("N `process pI /bin/sleep 1000000` entries in the django block (startsecs 1 s, the default), against supervisord with N `[program:pI]` sections running the same command. Start: from exec to every process RUNNING (polled every 20 ms through the admin API, or `supervisorctl status`). Status: `caddy django status` (a CLI call to the admin API) vs `supervisorctl status`, median of 5; the admin API's `GET /django/processes` alone in brackets. Reload: `POST /load` of a Caddyfile that changes a header (the processes keep running) vs `supervisorctl update` with nothing changed, median of 3. Idle CPU: %% of one core the manager uses over 10 s while nothing happens. Helpers: each process has a watchdog shell (`sh -c 'read …'`, it kills the group if Caddy dies outright), counted by PSS (their RSS would count the pages the shells share once per shell).\n\n")
	b.printf("| processes | manager | all RUNNING after | status | reload / update | manager RSS | manager threads | helpers (PSS) | idle CPU |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, n := range points {
		o := b.procsOurs(n)
		s := b.procsSupervisord(n)
		for _, r := range []struct {
			name string
			r    procResult
			api  bool
		}{{"Caddy + plugin", o, true}, {"supervisord", s, false}} {
			if r.r.start == 0 {
				b.printf("| %d | %s | failed: %s | | | | | | |\n", n, r.name, r.r.err)
				continue
			}
			status := ms(r.r.status)
			if r.api {
				status += " (" + ms(r.r.statusAPI) + ")"
			}
			warn := ""
			if r.r.err != "" {
				warn = " ⚠ " + r.r.err
			}
			b.printf("| %d | %s | %s%s | %s | %s | %s | %d | %d (%s) | %.1f%% |\n", n, r.name, ms(r.r.start), warn, status, ms(r.r.reload), kib(r.r.rss), r.r.threads, r.r.helperN, kib(r.r.helpers), r.r.idleCPU)
		}
		if o.start > 0 && s.start > 0 {
			b.verdict("12", fmt.Sprintf("%d processes: `caddy django status` vs `supervisorctl status`", n), fmt.Sprintf("%s vs %s", ms(o.status), ms(s.status)), "report", "—")
			b.verdict("12", fmt.Sprintf("%d processes: Caddy idle CPU", n), fmt.Sprintf("%.1f%% of a core (supervisord %.1f%%)", o.idleCPU, s.idleCPU), "report", "—")
		}
	}
}

// --- static files in the manifest --------------------------------------------------------

// manifestTree writes a static root of n hashed files (about 400 bytes
// each, in directories of 1,000) with its staticfiles.json, and returns the
// root and one hashed name.
func manifestTree(dir string, n int) (string, error) {
	paths := make(map[string]string, n)
	first := ""
	for i := range n {
		content := fmt.Sprintf("/* file %d */\n.c%d { color: #%06x; }\n%s\n", i, i, i*7919%0xffffff, strings.Repeat("/* padding */", 28))
		sum := sha256.Sum256([]byte(content))
		orig := fmt.Sprintf("css/d%d/f%d.css", i/1000, i)
		hashed := fmt.Sprintf("css/d%d/f%d.%s.css", i/1000, i, hex.EncodeToString(sum[:6]))
		path := filepath.Join(dir, filepath.FromSlash(hashed))
		if i%1000 == 0 {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return "", err
			}
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return "", err
		}
		paths[orig] = hashed
		if first == "" {
			first = hashed
		}
	}
	data, err := json.Marshal(map[string]any{"paths": paths, "version": "1.1", "hash": "x"})
	if err != nil {
		return "", err
	}
	return first, os.WriteFile(filepath.Join(dir, "staticfiles.json"), data, 0o644)
}

// manifestResult is one point of the manifest curve.
type manifestResult struct {
	n             int
	first         time.Duration // the first GET of a hashed file once the site accepts
	build         string        // the cache's build time, from its log line
	cached        string
	rss, rssBuilt int // KiB: after the first request; once the cache is built
	err           string
}

// waitListening waits until a TCP connection to port succeeds.
func waitListening(port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %d after %s", port, timeout)
}

// cacheLine waits for the static cache's "static files cached in memory"
// line in log and returns its took and files fields.
func cacheLine(log string, timeout time.Duration) (took, files string, err error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(log)
		for _, line := range strings.Split(string(data), "\n") {
			var e struct {
				Msg   string  `json:"msg"`
				Took  float64 `json:"took"`
				Files int     `json:"files"`
			}
			if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "static files cached in memory" {
				return ms(time.Duration(e.Took * float64(time.Second))), commas(int64(e.Files)), nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", "", fmt.Errorf("no cache line after %s", timeout)
}

func (b *bench) manifestRun(root, first string, n int, ours bool) (res manifestResult) {
	res.n = n
	admin, port := freePort(), freePort()
	site := fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\tdjango_files {\n\t\tstatic /static/ %s\n\t\tmedia off\n\t\tupstream 127.0.0.1:9\n\t}\n}\n", port, root)
	name := "scale-manifest-df"
	if !ours {
		name = "scale-manifest-fs"
		site = fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\thandle_path /static/* {\n\t\troot * %s\n\t\tfile_server\n\t\theader Cache-Control \"public, max-age=31536000, immutable\"\n\t}\n}\n", port, root)
	}
	cf := filepath.Join(b.work, name+".Caddyfile")
	if err := os.WriteFile(cf, []byte(globalOptions(admin, "")+site), 0o644); err != nil {
		res.err = err.Error()
		return res
	}
	p, err := b.ps.spawn(name, b.proj.Root, b.proj.env, b.caddyBin, "run", "--config", cf, "--adapter", "caddyfile")
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer b.ps.stop(p, 60*time.Second)
	if err := waitListening(port, 60*time.Second); err != nil {
		res.err = err.Error()
		return res
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t0 := time.Now()
	resp, err := client.Get(b.url(port, "/static/"+first))
	if err != nil {
		res.err = err.Error()
		return res
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res.first = time.Since(t0)
	if resp.StatusCode != 200 {
		res.err = "first request: " + resp.Status
		return res
	}
	res.rss = rssKB(p.pid())
	if ours {
		res.build, res.cached, err = cacheLine(p.cmd.Stdout.(*os.File).Name(), 5*time.Minute)
		if err != nil {
			res.err = err.Error()
		}
	}
	time.Sleep(time.Second)
	res.rssBuilt = rssKB(p.pid())
	logf("  %s, %d files: first request %s, cache %s (%s files), RSS %s → %s", name, n, ms(res.first), res.build, res.cached, kib(res.rss), kib(res.rssBuilt))
	return res
}

func (b *bench) scaleManifest() {
	points := scalePoints("BENCH_SCALE_FILES", 1000, 10000, 50000)
	if len(points) == 0 {
		return
	}
	b.printf("\n### 12d. Static files in the manifest\n\n")
	b.printf("A static root of N hashed files (about 400 bytes each, 1,000 per directory) with its `staticfiles.json`, served by `django_files` (`static /static/ DIR`, memory cache default 32 MiB) or by Caddy's `file_server` under `handle_path /static/*`. First request: the first GET of a hashed file once the site accepts connections (it reads the manifest; the cache is built in the background). Cache built: the cache's own log line. RSS once the cache is built (`file_server`: after the first request).\n\n")
	b.printf("| files | server | first request | cache built in (files) | Caddy RSS after the first request → once built |\n|---|---|---|---|---|\n")
	for _, n := range points {
		root := filepath.Join(b.work, fmt.Sprintf("manifest-%d", n))
		t0 := time.Now()
		first, err := manifestTree(root, n)
		if err != nil {
			b.printf("| %d | | failed to write the tree: %v | | |\n", n, err)
			continue
		}
		logf("  wrote %d static files in %s", n, ms(time.Since(t0)))
		for _, ours := range []bool{true, false} {
			r := b.manifestRun(root, first, n, ours)
			server, built := "django_files", fmt.Sprintf("%s (%s)", r.build, r.cached)
			if !ours {
				server, built = "Caddy `file_server`", "— (no cache)"
			}
			if r.first == 0 {
				b.printf("| %s | %s | failed: %s | | |\n", commas(int64(n)), server, r.err)
				continue
			}
			if r.err != "" {
				built += " ⚠ " + r.err
			}
			b.printf("| %s | %s | %s | %s | %s → %s |\n", commas(int64(n)), server, ms(r.first), built, kib(r.rss), kib(r.rssBuilt))
			if ours {
				b.verdict("12", fmt.Sprintf("%s manifest files: first request, cache build", commas(int64(n))), fmt.Sprintf("%s, %s", ms(r.first), r.build), "report", "—")
			}
		}
		_ = os.RemoveAll(root)
	}
}
