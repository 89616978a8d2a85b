package caddydjango

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// healthSite runs the demo project behind django_files with `health
// /health`; django is added to the django block; global to the global
// options.
func healthSite(t *testing.T, global, django string) *djangoSite {
	t.Helper()
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		cfg := s.config(admin, 1, "", django, "django_files {\n\t\thealth /health\n\t}")
		return strings.Replace(cfg, "\tpersist_config off\n", "\tpersist_config off\n"+global, 1)
	})
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	return s
}

// healthNow is one GET of the health endpoint on a new connection: its
// status (-1: no answer) and body.
func (s *djangoSite) healthNow() (int, healthBody) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(s.url("/health"))
	if err != nil {
		return -1, healthBody{}
	}
	defer resp.Body.Close()
	var b healthBody
	_ = json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, b
}

// waitDraining waits until the health endpoint says "draining" (503).
func (s *djangoSite) waitDraining(t *testing.T) healthBody {
	t.Helper()
	var body healthBody
	waitFor(t, 30*time.Second, func() bool {
		var code int
		code, body = s.healthNow()
		return code == http.StatusServiceUnavailable && body.Status == "draining"
	}, "the health endpoint to answer 503 draining")
	if len(body.Problems) == 0 || body.Problems[0] != stoppingProblem {
		t.Errorf("draining health body: %+v; want the problem %q first", body, stoppingProblem)
	}
	return body
}

// postNew POSTs a small body to path on a new connection.
func (s *djangoSite) postNew(path string) (int, error) {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(s.url(path), "application/x-www-form-urlencoded", strings.NewReader("x=1"))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// cluster reads GET /django/cluster.
func (c *caddyProc) cluster() ClusterStatus {
	c.t.Helper()
	resp, err := adminClient.Get("http://" + c.admin + "/django/cluster")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st ClusterStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		c.t.Fatal(err)
	}
	return st
}

// logIndex is the position of the first log entry match finds (-1: none).
func (c *caddyProc) logIndex(match func(logEntry) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.IndexFunc(c.logs, match)
}

// TestDrainOnSIGTERM: on SIGTERM with `drain`, Caddy keeps serving (a POST
// on a new connection succeeds) while the health endpoint answers 503
// "draining" and `status --check` exits 1 saying so; `status` says how long
// is left; a second SIGTERM ends the drain and Caddy stops gracefully at
// once. Before drain existed, health answered 200 until the listener
// closed, at once.
func TestDrainOnSIGTERM(t *testing.T) {
	t.Parallel()
	s := healthSite(t, "", "drain 2m")
	if code, body := s.healthNow(); code != http.StatusOK || body.Status != "ok" {
		t.Fatalf("health before the stop: %d %+v", code, body)
	}
	if st := s.cluster(); st.Draining || st.Drain != "2m0s" || st.DrainReason != "drain 2m0s" {
		t.Errorf("cluster status before the stop: %+v", st)
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	s.waitDraining(t)
	s.waitLog(10*time.Second, "the drain's log", msgIs("draining: requests are served, health answers 503 (draining), then Caddy stops gracefully",
		func(e logEntry) bool { return e.num("drain") == 120 && e.str("why") == "drain 2m0s" }))
	if code, err := s.postNew("/echo-size/"); code != http.StatusOK {
		t.Errorf("a POST on a new connection while draining: %d %v; want 200", code, err)
	}
	out, errOut, code := runCLI(t, "status", "--check", "--address", s.admin)
	if code != 1 || !strings.Contains(errOut, "unhealthy: "+stoppingProblem) {
		t.Errorf("status --check while draining: exit %d\n%s%s; want 1 saying %q", code, out, errOut, stoppingProblem)
	}
	out, errOut, code = runCLI(t, "status", "--address", s.admin)
	if code != 0 || !strings.Contains(out, "DRAINING: health answers 503; the graceful stop begins in ") {
		t.Errorf("status while draining: exit %d\n%s%s", code, out, errOut)
	}
	if st := s.cluster(); !st.Draining || st.DrainLeft == "" {
		t.Errorf("cluster status while draining: %+v", st)
	}
	// a second SIGTERM ends the drain: a graceful stop, well before 2m
	if state := s.signalAndWait(syscall.SIGTERM, 60*time.Second); !state.Success() {
		t.Errorf("caddy exited with %v", state)
	}
	if s.logIndex(msgIs("drain ended early by a second signal; stopping gracefully")) < 0 {
		t.Error("no log of the drain ended by the second signal")
	}
}

// TestDrainBeforeGracefulStop: `caddy stop` (POST /stop) drains too, and
// the drain ends before Caddy's HTTP servers begin shutting down and
// before the processes are stopped.
func TestDrainBeforeGracefulStop(t *testing.T) {
	t.Parallel()
	s := healthSite(t, "", "drain 1s")
	if out, err := exec.Command(caddyBinary(t), "stop", "--address", s.admin).CombinedOutput(); err != nil {
		t.Fatalf("caddy stop: %v\n%s", err, out)
	}
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("caddy did not exit after caddy stop")
	}
	drained := s.logIndex(msgIs("drained; stopping gracefully"))
	shutdown := s.logIndex(func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "servers shutting down") })
	stopped := s.logIndex(msgIs("stopping process", isProcess(gunicornName)))
	if drained < 0 || shutdown < 0 || stopped < 0 || drained > shutdown || drained > stopped {
		s.dumpLogs()
		t.Errorf("log order: drained at %d, HTTP servers shutting down at %d, gunicorn stopping at %d; want the drain first", drained, shutdown, stopped)
	}
}

// endDrain sends SIGTERM, waits until Caddy drains, and ends the drain with
// a second SIGTERM; Caddy must then exit.
func (s *djangoSite) endDrain(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	s.waitLog(30*time.Second, "the drain", func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "draining: ") })
	if state := s.signalAndWait(syscall.SIGTERM, 60*time.Second); !state.Success() {
		t.Errorf("caddy exited with %v", state)
	}
}

// TestReloadDoesNotDrain: a config reload stops the old config, but Caddy
// is not stopping: no drain, health stays 200.
func TestReloadDoesNotDrain(t *testing.T) {
	t.Parallel()
	s := healthSite(t, "", "drain 2m")
	cfg := s.config(s.admin, 1, "", "drain 2m\n\t\tenv RELOADED 1", "django_files {\n\t\thealth /health\n\t}")
	done := make(chan error, 1)
	go func() { done <- s.reload(cfg) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the reload did not finish within 60s (did it drain?)")
	}
	if i := s.logIndex(func(e logEntry) bool { return e.str("logger") == "django.drain" }); i >= 0 {
		t.Errorf("a reload drained: %v", s.entries(func(e logEntry) bool { return e.str("logger") == "django.drain" }))
	}
	// a new connection right after a reload may meet the old listener
	// closing (getAfterReload): ask until one is answered
	var code int
	var body healthBody
	waitFor(t, 10*time.Second, func() bool { code, body = s.healthNow(); return code != -1 }, "an answer from health")
	if code != http.StatusOK {
		t.Errorf("health after the reload: %d %+v", code, body)
	}
	s.endDrain(t)
}

// TestDrainDefault: without `drain`, Caddy drains 5s when a health check
// was answered within the last minute (a balancer watches), and stops at
// once when none was (nobody to tell).
func TestDrainDefault(t *testing.T) {
	t.Parallel()
	s := healthSite(t, "", "")
	if st := s.cluster(); st.Drain != "0s" || !strings.HasPrefix(st.DrainReason, "default: no health check in the last 1m0s") {
		t.Errorf("before any health check: %+v; want no drain", st)
	}
	if code, _ := s.healthNow(); code != http.StatusOK {
		t.Fatalf("health: %d", code)
	}
	if st := s.cluster(); st.Drain != "5s" || !strings.HasPrefix(st.DrainReason, "default while health is checked (last ") {
		t.Errorf("after a health check: %+v; want the default drain of 5s", st)
	}
	out, errOut, code := runCLI(t, "status", "--address", s.admin)
	if code != 0 || !strings.Contains(out, "\ndrain on stop: 5s (default while health is checked (last ") {
		t.Errorf("status: exit %d\n%s%s; want the drain on stop", code, out, errOut)
	}
	s.endDrain(t)
	if s.logIndex(msgIs("draining: requests are served, health answers 503 (draining), then Caddy stops gracefully",
		func(e logEntry) bool { return e.num("drain") == 5 })) < 0 {
		t.Error("no default drain of 5s logged")
	}

	// nobody checked this one's health: it stops at once
	c := startWithDjango(t, t.TempDir(), "process sleeper /bin/sleep 1000")
	c.waitState("sleeper", StateRunning, 30*time.Second)
	// `status --check` is a health check too, but this one asks before
	// anything: no drain yet
	c.signalAndWait(syscall.SIGTERM, 60*time.Second)
	if c.logIndex(msgIs("stopping without a drain", func(e logEntry) bool {
		return e.str("why") == "default: no health check in the last 1m0s"
	})) < 0 {
		t.Error("no log of the stop without a drain")
	}
}

// TestStatusCheckCountsAsHealthCheck: `caddy django status --check` is a
// health check (Docker's HEALTHCHECK): it turns the default drain on.
func TestStatusCheckCountsAsHealthCheck(t *testing.T) {
	t.Parallel()
	c := startWithDjango(t, t.TempDir(), "process sleeper /bin/sleep 1000")
	c.waitState("sleeper", StateRunning, 30*time.Second)
	if out, errOut, code := runCLI(t, "status", "--check", "--address", c.admin); code != 0 {
		t.Fatalf("status --check: exit %d\n%s%s", code, out, errOut)
	}
	if st := c.cluster(); st.Drain != "5s" {
		t.Errorf("after status --check: %+v; want the default drain", st)
	}
}

// TestHealthDuringShutdownDelay: with Caddy's own shutdown_delay (and no
// drain), health answers 503 "draining" during the delay, while Caddy
// still serves. Before, it answered 200 until the listener closed.
func TestHealthDuringShutdownDelay(t *testing.T) {
	t.Parallel()
	s := healthSite(t, "\tshutdown_delay 2m\n", "drain 0s")
	if code, _ := s.healthNow(); code != http.StatusOK {
		t.Fatalf("health: %d", code)
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	s.waitLog(30*time.Second, "the shutdown delay", msgIs("shutdown scheduled"))
	s.waitDraining(t)
	if code, err := s.postNew("/echo-size/"); code != http.StatusOK {
		t.Errorf("a POST on a new connection during shutdown_delay: %d %v; want 200", code, err)
	}
	if s.logIndex(msgIs("stopping without a drain")) < 0 {
		t.Error("drain 0s drained")
	}
	_ = s.cmd.Process.Kill() // Caddy's shutdown_delay cannot be cut short
}

// TestDrainFor: an explicit drain is used as is; the default is 5s while a
// health check was answered within the last minute, else none.
func TestDrainFor(t *testing.T) {
	now := time.Now()
	ten := caddy.Duration(10 * time.Second)
	zero := caddy.Duration(0)
	old := drainState.lastCheck.Load()
	defer drainState.lastCheck.Store(old)
	for _, c := range []struct {
		name      string
		drain     *caddy.Duration
		lastCheck time.Time
		want      time.Duration
		why       string
	}{
		{"explicit", &ten, time.Time{}, 10 * time.Second, "drain 10s"},
		{"explicit off", &zero, now, 0, "drain 0s"},
		{"never checked", nil, time.Time{}, 0, "default: no health check in the last 1m0s"},
		{"checked long ago", nil, now.Add(-2 * time.Minute), 0, "default: no health check in the last 1m0s"},
		{"checked", nil, now.Add(-3 * time.Second), defaultDrain, "default while health is checked (last 3s ago)"},
	} {
		var last int64
		if !c.lastCheck.IsZero() {
			last = c.lastCheck.UnixNano()
		}
		drainState.lastCheck.Store(last)
		d, why := (&App{Drain: c.drain}).drainFor(now)
		if d != c.want || why != c.why {
			t.Errorf("%s: %s %q, want %s %q", c.name, d, why, c.want, c.why)
		}
	}
}
