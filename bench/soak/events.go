//go:build linux

package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// gen is one generation (master process) of an app server, as the monitor
// saw it: from when its pid first showed in the status until it was gone.
type gen struct {
	server string
	pid    int
	first  time.Time // first seen in the status
	gone   time.Time // another pid in the status, or dead: its stop began
	died   time.Time
}

// monitor polls the status every 250 ms and records the app servers'
// generations, so that a stream's end can be matched with the stop of the
// generation it was attached to.
type monitor struct {
	s    *soak
	mu   sync.Mutex
	gens []*gen
}

func newMonitor(s *soak) *monitor { return &monitor{s: s} }

func (m *monitor) run(done chan struct{}) {
	for {
		st, err := m.s.statuses()
		now := time.Now()
		m.mu.Lock()
		if err == nil {
			for _, name := range []string{"gunicorn", "asgi"} {
				pid := st[name].PID
				if pid > 0 && !m.known(pid) {
					m.gens = append(m.gens, &gen{server: name, pid: pid, first: now})
				}
				for _, g := range m.gens {
					if g.server == name && g.pid != pid && g.gone.IsZero() {
						g.gone = now
					}
				}
			}
		}
		for _, g := range m.gens {
			if g.died.IsZero() && !testkit.Alive(g.pid) {
				g.died = now
				if g.gone.IsZero() {
					g.gone = now
				}
			}
		}
		m.mu.Unlock()
		select {
		case <-done:
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (m *monitor) known(pid int) bool {
	for _, g := range m.gens {
		if g.pid == pid {
			return true
		}
	}
	return false
}

// attachedStop returns the uvicorn generation that a stream opened in
// [open0, open1] may have been attached to (alive then) and whose stop
// ended it: the stream ended after the generation's stop began (another
// generation took its place, or it died) and before it died, give or take
// the monitor's poll; nil if there is none.
func (m *monitor) attachedStop(open0, open1, end time.Time) *gen {
	m.mu.Lock()
	defer m.mu.Unlock()
	const slack = 2 * time.Second
	for _, g := range m.gens {
		if g.server != "asgi" || g.first.After(open1.Add(slack)) || (!g.died.IsZero() && g.died.Before(open0)) {
			continue // not alive while the stream opened
		}
		if !g.gone.IsZero() && !g.died.IsZero() && !end.Before(g.gone.Add(-slack)) && !end.After(g.died.Add(slack)) {
			return g
		}
	}
	return nil
}

// eventRec is one event of the schedule.
type eventRec struct {
	name, detail string
	t0, t1       time.Time
	err          error
}

// kill is a SIGKILL the run sent: requests in flight in that app server at
// that moment may fail, and are counted apart.
type kill struct {
	server, what string
	pid          int
	t            time.Time
}

var eventNames = []string{
	"reload-same", "reload-header", "reload-workers", "restart", "deploy",
	"kill-master", "kill-worker", "crash-loop", "collectstatic",
}

// events runs until end: a random event every ~eventsEvery, and a
// resource sample every minute (between events).
func (s *soak) events(end time.Time) {
	var order []string
	nextSample := s.start
	nextEvent := s.start.Add(s.pause())
	minuteNo := 0
	for {
		now := time.Now()
		switch {
		case !now.Before(nextSample) && !nextSample.After(end): // the last one at the end
			s.takeSample(minuteNo)
			minuteNo++
			nextSample = s.start.Add(time.Duration(minuteNo) * time.Minute)
		case !now.Before(end):
			return
		case !now.Before(nextEvent):
			if len(order) == 0 { // every kind once per round, in a seeded order
				order = append([]string{}, eventNames...)
				if s.only != "" {
					order = strings.Split(s.only, ",")
				}
				s.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			}
			name := order[0]
			order = order[1:]
			s.runEvent(name)
			nextEvent = time.Now().Add(s.pause())
		default:
			wake := nextSample
			for _, t := range []time.Time{nextEvent, end} {
				if t.Before(wake) {
					wake = t
				}
			}
			time.Sleep(time.Until(wake))
		}
	}
}

func (s *soak) pause() time.Duration {
	return s.eventsEvery/2 + time.Duration(s.rng.Int64N(int64(s.eventsEvery)+1))
}

func (s *soak) runEvent(name string) {
	ev := &eventRec{name: name, t0: time.Now()}
	switch name {
	case "reload-same":
		ev.detail, ev.err = "caddy reload --force, same config", s.caddyReload(s.workers, s.rev)
	case "reload-header":
		ev.detail = fmt.Sprintf("X-Soak-Rev %d", s.rev+1)
		ev.err = s.reloadHeader()
	case "reload-workers":
		w := 5 - s.workers // 2 <-> 3
		ev.detail = fmt.Sprintf("gunicorn workers %d -> %d", s.workers, w)
		ev.err = s.reloadWorkers(w)
	case "restart":
		server := []string{"gunicorn", "asgi"}[s.rng.IntN(2)]
		ev.detail = "caddy django restart " + server
		ev.err = s.restart(server)
	case "deploy":
		ev.detail = "caddy django reload"
		ev.err = s.deploy()
	case "kill-master":
		server := []string{"gunicorn", "asgi"}[s.rng.IntN(2)]
		ev.detail, ev.err = s.killMaster(server)
	case "kill-worker":
		ev.detail, ev.err = s.killWorker(s.rng.IntN(2) == 0)
	case "crash-loop":
		ev.detail, ev.err = s.crashLoop()
	case "collectstatic":
		ev.detail, ev.err = s.collectstatic()
	}
	ev.t1 = time.Now()
	s.evMu.Lock()
	s.evs = append(s.evs, ev)
	s.evMu.Unlock()
	status := "ok"
	if ev.err != nil {
		status = "FAILED: " + ev.err.Error()
	}
	logf("event %-14s %-40s %6s  %s", name, ev.detail, ev.t1.Sub(ev.t0).Round(100*time.Millisecond), status)
}

// caddy runs the Caddy binary's CLI.
func (s *soak) caddyCLI(args ...string) error {
	cmd := exec.Command(s.caddyBin, args...)
	cmd.Dir, cmd.Env = s.proj, s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("caddy %s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 3))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func (s *soak) caddyReload(workers, rev int) error {
	s.mu.Lock()
	s.workers, s.rev = workers, rev
	s.mu.Unlock()
	if err := os.WriteFile(s.cfPath, []byte(s.caddyfile(workers, rev)), 0o644); err != nil {
		return err
	}
	return s.caddyCLI("reload", "--config", s.cfPath, "--adapter", "caddyfile", "--force")
}

func (s *soak) reloadHeader() error {
	rev := s.rev + 1
	if err := s.caddyReload(s.workers, rev); err != nil {
		return err
	}
	return waitFor(30*time.Second, "the new X-Soak-Rev", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hello/", s.gport))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.Header.Get("X-Soak-Rev") == strconv.Itoa(rev)
	})
}

func (s *soak) reloadWorkers(workers int) error {
	old := s.pidOf("gunicorn")
	if err := s.caddyReload(workers, s.rev); err != nil {
		return err
	}
	return s.waitRunning("gunicorn", old, 120*time.Second)
}

func (s *soak) restart(server string) error {
	old := s.pidOf(server)
	if err := s.caddyCLI("django", "restart", server, "--address", fmt.Sprintf("127.0.0.1:%d", s.admin)); err != nil {
		return err
	}
	return s.waitRunning(server, old, 120*time.Second)
}

func (s *soak) deploy() error {
	g, a := s.pidOf("gunicorn"), s.pidOf("asgi")
	if err := s.caddyCLI("django", "reload", "--address", fmt.Sprintf("127.0.0.1:%d", s.admin)); err != nil {
		return err
	}
	if err := s.waitRunning("gunicorn", g, 120*time.Second); err != nil {
		return err
	}
	return s.waitRunning("asgi", a, 120*time.Second)
}

func (s *soak) killMaster(server string) (string, error) {
	pid := s.pidOf(server)
	if pid <= 0 {
		return "SIGKILL " + server, fmt.Errorf("no %s pid", server)
	}
	s.recordKill(server, server+" master", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Sprintf("SIGKILL %s master %d", server, pid), s.waitRunning(server, pid, 120*time.Second)
}

// killWorker SIGKILLs one Gunicorn worker (its master forks another) or
// the `worker` process (Caddy restarts it).
func (s *soak) killWorker(gunicorn bool) (string, error) {
	if !gunicorn {
		pid := s.pidOf("worker")
		if pid <= 0 {
			return "SIGKILL worker", fmt.Errorf("no worker pid")
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return fmt.Sprintf("SIGKILL process worker %d", pid), s.waitRunning("worker", pid, 60*time.Second)
	}
	master := s.pidOf("gunicorn")
	kids := children(master)
	if len(kids) == 0 {
		return "SIGKILL gunicorn worker", fmt.Errorf("gunicorn %d has no workers", master)
	}
	pid := kids[s.rng.IntN(len(kids))]
	s.recordKill("gunicorn", "gunicorn worker", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	detail := fmt.Sprintf("SIGKILL gunicorn worker %d", pid)
	s.mu.Lock()
	want := s.workers
	s.mu.Unlock()
	return detail, waitFor(60*time.Second, "gunicorn's workers back", func() bool {
		k := children(master)
		return len(k) == want && !contains(k, pid)
	})
}

func (s *soak) recordKill(server, what string, pid int) {
	s.evMu.Lock()
	s.kills = append(s.kills, kill{server: server, what: what, pid: pid, t: time.Now()})
	s.evMu.Unlock()
}

// crashLoop makes the crashloop process exit 1 soon after each start until
// it has crashed 3 times, then lets it recover: it must be RUNNING again and
// stay up.
func (s *soak) crashLoop() (string, error) {
	st, err := s.statuses()
	if err != nil {
		return "crash loop", err
	}
	r0 := st["crashloop"].Restarts
	if err := os.WriteFile(s.crashFlag, nil, 0o644); err != nil {
		return "crash loop", err
	}
	err = waitFor(90*time.Second, "3 crashes", func() bool {
		st, err := s.statuses()
		return err == nil && st["crashloop"].Restarts >= r0+3
	})
	os.Remove(s.crashFlag)
	st, _ = s.statuses()
	detail := fmt.Sprintf("crashloop: %d crashes, then recovered", st["crashloop"].Restarts-r0)
	if err != nil {
		return detail, err
	}
	var last int
	return detail, waitFor(90*time.Second, "crashloop RUNNING for 3 s", func() bool {
		st, err := s.statuses()
		p := st["crashloop"]
		ok := err == nil && p.State == "RUNNING" && p.Uptime >= 3 && p.Restarts == last
		last = p.Restarts
		return ok
	})
}

// collectstatic changes css/app.css and runs collectstatic (through
// `caddy django exec`, with the app's environment): the new hashed URL must
// be served, immutable, and the old one still.
func (s *soak) collectstatic() (string, error) {
	src := filepath.Join(s.proj, "assets", "css", "app.css")
	data, err := os.ReadFile(src)
	if err != nil {
		return "collectstatic", err
	}
	s.cssRev++
	data = append(data, []byte(fmt.Sprintf("/* soak %d */\n", s.cssRev))...)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		return "collectstatic", err
	}
	before, _ := readManifest(s.static)
	if err := s.caddyCLI("django", "exec", "--address", fmt.Sprintf("127.0.0.1:%d", s.admin), "--", python, "manage.py", "collectstatic", "--noinput"); err != nil {
		return "collectstatic", err
	}
	after, err := readManifest(s.static)
	if err != nil {
		return "collectstatic", err
	}
	oldURL, newURL := "/static/"+before["css/app.css"], "/static/"+after["css/app.css"]
	detail := fmt.Sprintf("css/app.css -> %s", after["css/app.css"])
	if oldURL == newURL {
		return detail, fmt.Errorf("the hashed name did not change")
	}
	oldBody, _ := s.staticBody(oldURL)
	// collectstatic rewrites url() references in CSS: the hashed file is
	// what must be served
	if data, err = os.ReadFile(filepath.Join(s.static, after["css/app.css"])); err != nil {
		return detail, err
	}
	for _, port := range []int{s.gport, s.uport} {
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		var last string
		if err := waitFor(10*time.Second, "the new hashed URL served immutable", func() bool {
			last = checkStatic(base+newURL, data)
			return last == ""
		}); err != nil {
			return detail, fmt.Errorf("%v: %s", err, last)
		}
		if msg := checkStatic(base+oldURL, oldBody); msg != "" {
			return detail, fmt.Errorf("the old hashed URL: %s", msg)
		}
	}
	s.statics.add(newURL, data)
	return detail, nil
}

func (s *soak) staticBody(url string) ([]byte, bool) {
	s.statics.mu.Lock()
	defer s.statics.mu.Unlock()
	b, ok := s.statics.body[url]
	return b, ok
}

func checkStatic(url string, want []byte) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	switch {
	case resp.StatusCode != 200:
		return fmt.Sprintf("%s: %s", url, resp.Status)
	case !bytes.Equal(buf.Bytes(), want):
		return fmt.Sprintf("%s: %d bytes, not the file's %d", url, buf.Len(), len(want))
	case !strings.Contains(resp.Header.Get("Cache-Control"), "immutable"):
		return fmt.Sprintf("%s: Cache-Control %q", url, resp.Header.Get("Cache-Control"))
	}
	return ""
}

func (s *soak) pidOf(name string) int {
	st, err := s.statuses()
	if err != nil {
		return 0
	}
	return st[name].PID
}

// waitRunning waits until name is RUNNING with a pid other than old.
func (s *soak) waitRunning(name string, old int, timeout time.Duration) error {
	return waitFor(timeout, name+" RUNNING with a new pid", func() bool {
		st, err := s.statuses()
		return err == nil && st[name].State == "RUNNING" && st[name].PID > 0 && st[name].PID != old
	})
}

func waitFor(timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s after %s", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// children lists the live child processes of pid.
func children(pid int) []int {
	var out []int
	for _, p := range testkit.PIDs() {
		_, f, ok := testkit.Stat(p)
		if ok && len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
