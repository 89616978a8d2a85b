package caddydjango

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests with real Gunicorn serving the demo Django project under
// the django app, through a real Caddy.

type djangoSite struct {
	*caddyProc
	project *djangoProject
	gport   int // Gunicorn's bind port (the socket Caddy holds)
	hport   int // Caddy's site
	admin   string
}

// djangoConfig renders a Caddyfile for the demo project. extra goes into the
// django block; gunicornExtra into the gunicorn block.
func (s *djangoSite) config(admin string, workers int, gunicornExtra, extra, site string) string {
	django := fmt.Sprintf(`
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			workers %d
			%s
		}
		%s`, s.project.Root, systemGunicorn, s.gport, workers, gunicornExtra, extra)
	if site == "" {
		site = "django_files"
	}
	return globalBlock(admin, django) + fmt.Sprintf("\n:%d {\n\t%s\n}\n", s.hport, site)
}

func startDjangoSite(t *testing.T, workers int, gunicornExtra, extra string) *djangoSite {
	t.Helper()
	d := newDjangoProject(t)
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return s.config(admin, workers, gunicornExtra, extra, "")
	}, d.Env...)
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	return s
}

func (s *djangoSite) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", s.hport, path)
}

// load hammers url with 4 clients until stop is called, then reports the
// number of requests and of failures. Like the baseline measurement (Python
// urllib), each request uses a new connection.
//
// Two kinds of failure are told apart. An HTTP answer other than 200 means
// the request reached Caddy and Django failed it: always counted. A
// connection reset or closed before any answer is Caddy's front end: on
// every config reload Caddy 2.11 binds a new SO_REUSEPORT socket for its
// sites and closes the old one, and connections still queued in the old
// socket's backlog are reset (and Go's net/http closes, unanswered, a
// connection whose request it reads after shutdown began). That happens
// with a plain `respond` site too (bench/reloadswap: 141 in 60 reloads), so
// during a config reload those are reported, not failed; outside one they
// count.
type load struct {
	total, failed atomic.Int64
	frontDrops    atomic.Int64
	mu            sync.Mutex
	errors        []string
	halt          func()
}

func startLoad(url string) *load { return startLoadOpts(url, false) }

// startLoadDuringReloads is startLoad for config reloads (see load).
func startLoadDuringReloads(url string) *load { return startLoadOpts(url, true) }

func startLoadOpts(url string, allowDrops bool) *load {
	l := &load{}
	l.halt = testkit.Hammer(url, 4, func(status int, err error, _ time.Duration) {
		l.total.Add(1)
		switch {
		case status == 0 && allowDrops:
			l.frontDrops.Add(1)
			return
		case err == nil && status != http.StatusOK:
			err = fmt.Errorf("status %d", status)
		case err == nil:
			return
		}
		l.failed.Add(1)
		l.mu.Lock()
		if len(l.errors) < 10 {
			l.errors = append(l.errors, err.Error())
		}
		l.mu.Unlock()
	})
	return l
}

// stopAfter keeps the load on until at least n more requests succeeded after
// the event, then stops it.
func (l *load) stop(t *testing.T, event string) {
	t.Helper()
	after := l.total.Load() + 200
	waitFor(t, 60*time.Second, func() bool { return l.total.Load() >= after }, "requests after "+event)
	l.halt()
	if n := l.failed.Load(); n != 0 {
		t.Errorf("%s: %d of %d requests failed: %v", event, n, l.total.Load(), l.errors)
	} else {
		t.Logf("%s: 0 of %d requests failed", event, l.total.Load())
	}
	if n := l.frontDrops.Load(); n > 0 {
		t.Logf("%s: %d connections reset by Caddy's own listener swap (not Gunicorn; see load)", event, n)
	}
}

func TestGunicornAndWorkerUnderCaddy(t *testing.T) {
	t.Parallel()
	s := startDjangoSite(t, 2, "", `process worker /usr/bin/python3 manage.py worker --interval 0.2`)
	if code, body := httpGet(s.url("/hello/")); code != 200 || !strings.HasPrefix(body, "hello from django") {
		t.Fatalf("/hello/: %d %q", code, body)
	}
	st := s.statuses()
	g, w := st[gunicornName], s.waitState("worker", StateRunning, 30*time.Second)
	if g.PID == 0 || g.State != StateRunning || w.PID == 0 {
		t.Fatalf("status: %+v %+v", g, w)
	}
	// Gunicorn's output is logged under its own logger
	s.waitLog(10*time.Second, "gunicorn's boot line", func(e logEntry) bool {
		return e.str("logger") == "django.gunicorn" && strings.Contains(e.str("msg"), "Booting worker") && e.num("pid") == g.PID
	})
	// the worker runs: its heartbeat grows
	waitFor(t, 20*time.Second, func() bool {
		_, body := httpGet(s.url("/heartbeat/"))
		var hb struct{ Beats int }
		_ = json.Unmarshal([]byte(body), &hb)
		return hb.Beats >= 3
	}, "worker heartbeats")

	// a killed worker comes back
	if err := syscall.Kill(w.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		n := s.statuses()["worker"]
		return n.State == StateRunning && n.PID != w.PID && n.Restarts == 1
	}, "the killed worker to come back")
	w = s.statuses()["worker"]
	if w.LastExit != "killed by SIGKILL" {
		t.Errorf("last_exit %q", w.LastExit)
	}
	// it is ready (its SIGTERM handler installed) once it says so
	s.waitLog(30*time.Second, "the new worker's start line", func(e logEntry) bool {
		return e.str("logger") == "django.worker" && e.str("msg") == fmt.Sprintf("worker started pid=%d", w.PID)
	})

	// a reload that changes only the site keeps Gunicorn and the worker
	if err := s.reload(s.config(s.admin, 2, "", `process worker /usr/bin/python3 manage.py worker --interval 0.2`,
		"header X-Reloaded yes\n\tdjango_files")); err != nil {
		t.Fatal(err)
	}
	resp := getAfterReload(t, s.url("/hello/"))
	resp.Body.Close()
	if resp.Header.Get("X-Reloaded") != "yes" {
		t.Fatal("reload not applied")
	}
	after := s.statuses()
	if after[gunicornName].PID != g.PID || after["worker"].PID != w.PID {
		t.Fatalf("unrelated reload restarted processes: gunicorn %d->%d worker %d->%d",
			g.PID, after[gunicornName].PID, w.PID, after["worker"].PID)
	}

	// SIGTERM to Caddy: graceful, the worker sees TERM and exits cleanly,
	// nothing is left running
	members := append(groupMembers(g.PID), groupMembers(w.PID)...)
	if len(members) < 4 {
		t.Fatalf("expected gunicorn master, 2 workers and the worker, got %v", members)
	}
	state := s.signalAndWait(syscall.SIGTERM, 60*time.Second)
	if !state.Success() {
		t.Errorf("caddy exit: %v", state)
	}
	s.waitLog(time.Second, "the worker's clean exit", func(e logEntry) bool {
		return e.str("logger") == "django.worker" && e.str("msg") == "worker got SIGTERM, exiting cleanly"
	})
	if len(s.entries(msgIs("process stopped", isProcess("worker"), func(e logEntry) bool { return e.str("exit") == "exit status 0" }))) == 0 {
		t.Error("worker should exit with status 0")
	}
	for _, pid := range members {
		if testkit.Alive(pid) {
			t.Errorf("pid %d still running after caddy exited", pid)
		}
	}
}

func TestGunicornIsStartingUntilItServes(t *testing.T) {
	t.Parallel()
	d := newDjangoProject(t)
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	// a launcher that takes 2 s before Gunicorn even starts: connections
	// made meanwhile wait in the backlog of the socket Caddy holds
	launcher := filepath.Join(t.TempDir(), "slow-gunicorn")
	if err := os.WriteFile(launcher, []byte("#!/bin/sh\nsleep 2\nexec "+systemGunicorn+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return strings.Replace(s.config(admin, 1, "args --access-logfile -", "", ""), "command "+systemGunicorn, "command "+launcher, 1)
	}, d.Env...)
	st := s.statuses()[gunicornName]
	if st.State != StateStarting {
		t.Fatalf("state %s right after start, want STARTING", st.State)
	}
	begin := time.Now()
	code, body := httpGet(s.url("/hello/"))
	if code != 200 {
		t.Fatalf("request during start: %d %q (should wait, not fail)", code, body)
	}
	if time.Since(begin) < time.Second {
		t.Errorf("answered after %s: expected to wait for Gunicorn", time.Since(begin))
	}
	s.waitState(gunicornName, StateRunning, 30*time.Second)
	// the readiness probe never reached Django: the only request in
	// Gunicorn's access log is ours
	accessLines := func() []logEntry {
		return s.entries(func(e logEntry) bool {
			return e.str("logger") == "django.gunicorn" && strings.Contains(e.str("msg"), "HTTP/1.1\" ")
		})
	}
	// Gunicorn writes the line after the answer: wait for it to reach the log
	waitFor(t, 10*time.Second, func() bool { return len(accessLines()) > 0 }, "gunicorn's access log line")
	access := accessLines()
	if len(access) != 1 || !strings.Contains(access[0].str("msg"), "GET /hello/") {
		t.Errorf("access log should hold exactly our request, got %v", access)
	}
}

// TestZeroDowntime counts failed requests from 4 clients during each
// operation that restarts or replaces Gunicorn. Every count must be 0.
func TestZeroDowntime(t *testing.T) {
	t.Parallel()
	release := `release /usr/bin/python3 manage.py migrate --noinput`
	s := startDjangoSite(t, 2, "", release)
	hello := s.url("/hello/")
	pid := func() int { return s.statuses()[gunicornName].PID }

	t.Run("unrelated reload", func(t *testing.T) {
		before := pid()
		l := startLoadDuringReloads(hello)
		if err := s.reload(s.config(s.admin, 2, "", release,
			"header X-A b\n\tdjango_files")); err != nil {
			t.Fatal(err)
		}
		l.stop(t, "unrelated reload")
		if pid() != before {
			t.Errorf("gunicorn restarted: %d -> %d", before, pid())
		}
	})

	t.Run("reload changing workers", func(t *testing.T) {
		before := pid()
		l := startLoadDuringReloads(hello)
		if err := s.reload(s.config(s.admin, 3, "", release, "")); err != nil {
			t.Fatal(err)
		}
		l.stop(t, "reload changing workers")
		if pid() == before || testkit.Alive(before) {
			t.Errorf("old gunicorn %d should be replaced and gone (now %d)", before, pid())
		}
		if st := s.statuses()[gunicornName]; !strings.Contains(strings.Join(st.Command, " "), "--workers 3") {
			t.Errorf("running %v", st.Command)
		}
	})

	t.Run("SIGKILL of the gunicorn master", func(t *testing.T) {
		before := pid()
		l := startLoad(hello)
		waitFor(t, 10*time.Second, func() bool { return l.total.Load() > 50 }, "load")
		if err := syscall.Kill(before, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, func() bool {
			st := s.statuses()[gunicornName]
			return st.State == StateRunning && st.PID != before
		}, "a new gunicorn")
		l.stop(t, "SIGKILL of the master")
	})

	t.Run("restart through the admin API", func(t *testing.T) {
		before := pid()
		l := startLoad(hello)
		waitFor(t, 10*time.Second, func() bool { return l.total.Load() > 50 }, "load")
		if code, body := s.post("/django/processes/gunicorn/restart"); code != 200 {
			t.Fatalf("restart: %d %s", code, body)
		}
		l.stop(t, "API restart")
		if pid() == before {
			t.Error("same pid after restart")
		}
	})

	t.Run("deploy: POST /django/reload", func(t *testing.T) {
		before := pid()
		l := startLoad(hello)
		waitFor(t, 10*time.Second, func() bool { return l.total.Load() > 50 }, "load")
		if code, body := s.post("/django/reload"); code != 200 {
			t.Fatalf("deploy: %d %s", code, body)
		}
		l.stop(t, "deploy")
		if pid() == before {
			t.Error("same pid after deploy")
		}
		// at boot and on this deploy
		s.waitEntries(2, 5*time.Second, "the release command's second run", msgIs("release command done"))
	})

	t.Run("upload in flight during a reload", func(t *testing.T) {
		// a 3 MB body sent slowly over ~2 s while Gunicorn is replaced
		payload := bytes.Repeat([]byte("0123456789abcdef"), 3<<16)
		sum := sha256.Sum256(payload)
		pr, pw := io.Pipe()
		go func() {
			for i := 0; i < len(payload); i += len(payload) / 20 {
				_, _ = pw.Write(payload[i:min(i+len(payload)/20, len(payload))])
				time.Sleep(100 * time.Millisecond)
			}
			pw.Close()
		}()
		type result struct {
			code int
			body string
			err  error
		}
		done := make(chan result, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, s.url("/echo-size/"), pr)
			req.ContentLength = int64(len(payload))
			resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			done <- result{code: resp.StatusCode, body: string(b)}
		}()
		time.Sleep(300 * time.Millisecond) // let the upload begin before the reload
		if err := s.reload(s.config(s.admin, 2, "", release, "")); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.err != nil || r.code != 200 {
			t.Fatalf("upload: %v %d %s", r.err, r.code, r.body)
		}
		var got struct {
			Size   int
			Sha256 string
		}
		_ = json.Unmarshal([]byte(r.body), &got)
		if got.Size != len(payload) || got.Sha256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("upload arrived damaged: %+v", got)
		}
	})

	t.Run("a new gunicorn that cannot start leaves the old one serving", func(t *testing.T) {
		before := pid()
		l := startLoadDuringReloads(hello)
		err := s.reload(strings.Replace(s.config(s.admin, 2, "ready_timeout 5s\n\t\t\tstartretries 0", release, ""),
			"demo.wsgi:application", "demo.nosuchmodule:application", 1))
		if err == nil || !strings.Contains(err.Error(), "new gunicorn did not start, the running one keeps serving") {
			t.Fatalf("reload error = %v", err)
		}
		l.stop(t, "failed reload")
		if pid() != before {
			t.Errorf("gunicorn changed: %d -> %d", before, pid())
		}
	})

	t.Run("a failing release stops the deploy", func(t *testing.T) {
		before := pid()
		bad := release + "\n\t\trelease /bin/sh -c \"echo migration 0042 exploded >&2; exit 3\""
		err := s.reload(strings.Replace(s.config(s.admin, 4, "", bad, ""), "", "", 1))
		if err == nil || !strings.Contains(err.Error(), "migration 0042 exploded") {
			t.Fatalf("reload error should carry the release output, got %v", err)
		}
		if pid() != before {
			t.Errorf("gunicorn changed: %d -> %d", before, pid())
		}
		if code, _ := httpGet(hello); code != 200 {
			t.Errorf("site down after failed deploy: %d", code)
		}
	})
}

func TestSIGTERMLetsSlowRequestsFinish(t *testing.T) {
	t.Parallel()
	s := startDjangoSite(t, 3, "", "")
	type result struct {
		code int
		body string
	}
	results := make(chan result, 3)
	for range 3 {
		go func() {
			code, body := httpGet(s.url("/slow/?seconds=2"))
			results <- result{code, body}
		}()
	}
	// the three requests are inside Django before Caddy is told to stop
	waitFor(t, 10*time.Second, func() bool {
		return countSlowInFlight(s) >= 3
	}, "three slow requests in flight")
	g := s.statuses()[gunicornName]
	members := groupMembers(g.PID)
	state := s.signalAndWait(syscall.SIGTERM, 60*time.Second)
	if !state.Success() {
		t.Errorf("caddy exit %v", state)
	}
	for range 3 {
		r := <-results
		if r.code != 200 || r.body != "slept 2" {
			t.Errorf("in-flight request lost on SIGTERM: %d %q", r.code, r.body)
		}
	}
	for _, pid := range members {
		if testkit.Alive(pid) {
			t.Errorf("pid %d left running", pid)
		}
	}
}

// countSlowInFlight counts Gunicorn workers busy in /slow/: Gunicorn sync
// workers handle one request each, so a worker's open client socket means
// a request in flight. Approximated by Caddy's established upstream
// connections to Gunicorn's port.
func countSlowInFlight(s *djangoSite) int { return countEstablishedTo(s.gport) }

// TestReloadSoak alternates two configs 200 times through the admin API
// under constant load: no failed request, and no leaked process, file
// descriptor or goroutine; memory stays flat.
func TestReloadSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	t.Parallel()
	worker := func(n int) string {
		return fmt.Sprintf("process sidecar /bin/sleep %d\n\t\trelease /bin/true", 1000+n)
	}
	s := startDjangoSite(t, 2, "", worker(0))
	s.waitState("sidecar", StateRunning, 20*time.Second)
	caddyPID := s.cmd.Process.Pid
	measure := func() (fds, goroutines, procs int, rssKB int) {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", caddyPID))
		fds = len(ents)
		resp, err := http.Get("http://" + s.admin + "/debug/pprof/goroutine?debug=1")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Sscanf(string(b), "goroutine profile: total %d", &goroutines)
		}
		procs = len(testkit.Descendants(caddyPID))
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", caddyPID))
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &rssKB)
			}
		}
		return
	}
	configs := [2]string{
		s.config(s.admin, 2, "", worker(0), "header X-Config a\n\tdjango_files"),
		s.config(s.admin, 2, "", worker(1), "header X-Config b\n\tdjango_files"),
	}
	// warm up: the first reloads allocate pools that then stay
	for i := range 10 {
		if err := s.reload(configs[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	g := s.statuses()[gunicornName].PID
	fds0, gor0, procs0, rss0 := measure()
	l := startLoadDuringReloads(s.url("/hello/"))
	const reloads = 200
	for i := range reloads {
		if err := s.reload(configs[i%2]); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	l.stop(t, fmt.Sprintf("%d reloads", reloads))
	s.waitState("sidecar", StateRunning, 20*time.Second)
	var fds1, gor1, procs1, rss1 int
	// closing goes on briefly after the last reload returns: wait for it
	waitFor(t, 20*time.Second, func() bool {
		fds1, gor1, procs1, rss1 = measure()
		return fds1 <= fds0+8 && gor1 <= gor0+20 && procs1 == procs0
	}, "fds, goroutines and processes back to their level")
	t.Logf("after %d reloads: fds %d->%d, goroutines %d->%d, processes %d->%d, RSS %d->%d KB",
		reloads, fds0, fds1, gor0, gor1, procs0, procs1, rss0, rss1)
	if rss1 > rss0+40*1024 {
		t.Errorf("RSS grew by %d KB over %d reloads", rss1-rss0, reloads)
	}
	if now := s.statuses()[gunicornName].PID; now != g {
		t.Errorf("gunicorn restarted during the soak: %d -> %d", g, now)
	}
}

// TestGunicornOnUnixSocket: a relative unix: bind is under the app's root;
// django_files finds it with no upstream line; the socket survives Gunicorn
// restarts (Gunicorn must not unlink the path Caddy holds).
func TestGunicornOnUnixSocket(t *testing.T) {
	t.Parallel()
	d := newDjangoProject(t)
	hport := freePort(t)
	c := startCaddy(t, t.TempDir(), func(admin string) string {
		return globalBlock(admin, fmt.Sprintf(`
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind unix:run/gunicorn.sock
		}`, d.Root, systemGunicorn)) + fmt.Sprintf("\n:%d {\n\tdjango_files\n}\n", hport)
	}, d.Env...)
	c.waitState(gunicornName, StateRunning, 60*time.Second)
	sock := filepath.Join(d.Root, "run", "gunicorn.sock")
	url := fmt.Sprintf("http://127.0.0.1:%d/hello/", hport)
	for i := 0; i < 2; i++ {
		if code, body := httpGet(url); code != 200 || !strings.HasPrefix(body, "hello from django") {
			t.Fatalf("round %d: %d %q", i, code, body)
		}
		if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Fatalf("round %d: socket %s: %v", i, sock, err)
		}
		if code, body := c.post("/django/processes/gunicorn/restart"); code != 200 {
			t.Fatalf("restart: %d %s", code, body)
		}
	}
}

// TestUploadsSurviveCaddyDeath: uploads that completed (the client got its
// answer) are on disk, whole, after Caddy is SIGKILLed.
func TestUploadsSurviveCaddyDeath(t *testing.T) {
	t.Parallel()
	d := newDjangoProject(t)
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return s.config(admin, 2, "", "", "django_files")
	}, d.Env...)
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	var names []string
	sums := map[string]string{}
	for i := range 3 {
		payload := bytes.Repeat([]byte(fmt.Sprintf("upload %d ", i)), 200_000) // ~2 MB: spooled to disk by django_files
		var body bytes.Buffer
		mw := multipartWriter(&body, fmt.Sprintf("up%d.bin", i), payload)
		resp, err := http.Post(s.url("/upload/"), mw, &body)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Name string }
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != 200 || got.Name == "" {
			t.Fatalf("upload %d: %s %+v", i, resp.Status, got)
		}
		sum := sha256.Sum256(payload)
		names = append(names, got.Name)
		sums[got.Name] = hex.EncodeToString(sum[:])
	}
	s.signalAndWait(syscall.SIGKILL, 10*time.Second)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(d.MediaRoot, n))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != sums[n] {
			t.Errorf("%s is damaged on disk (%d bytes)", n, len(b))
		}
	}
}

// multipartWriter writes a multipart form with one file field and returns
// its content type.
func multipartWriter(w io.Writer, filename string, data []byte) string {
	mw := multipart.NewWriter(w)
	fw, _ := mw.CreateFormFile("file", filename)
	_, _ = fw.Write(data)
	_ = mw.Close()
	return mw.FormDataContentType()
}
