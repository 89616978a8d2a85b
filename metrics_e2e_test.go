package caddydjango

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests of the caddy_django_* metrics, scraped from a real
// Caddy's admin /metrics while it supervises a real Gunicorn.

// scrape returns the admin endpoint's metrics, one "name{labels}" per
// sample.
func (c *caddyProc) scrape() map[string]float64 {
	c.t.Helper()
	return scrapeMetrics(c.t, "http://"+c.admin+"/metrics")
}

// scrapeMetrics returns the metrics at url, one "name{labels}" per sample.
func scrapeMetrics(t testing.TB, url string) map[string]float64 {
	t.Helper()
	resp, err := adminClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// rssOf is the resident memory of pid from /proc/PID/statm.
func rssOf(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestProcessMetrics: the process metrics of a RUNNING Gunicorn (2
// workers) and a worker process, then after each crashed (SIGKILL).
func TestProcessMetrics(t *testing.T) {
	t.Parallel()
	s := startDjangoSite(t, 2, "", "process job /bin/sleep 1000")
	s.waitState("job", StateRunning, 30*time.Second)
	var members []int
	waitFor(t, 30*time.Second, func() bool {
		members = groupMembers(s.statuses()[gunicornName].PID)
		return len(members) == 3
	}, "gunicorn's master and 2 workers")

	m := s.scrape()
	for _, name := range []string{gunicornName, "job"} {
		st := s.statuses()[name]
		l := fmt.Sprintf(`{process=%q}`, name)
		if m["caddy_django_process_up"+l] != 1 || m[fmt.Sprintf(`caddy_django_process_state{process=%q,state="RUNNING"}`, name)] != 1 ||
			m[fmt.Sprintf(`caddy_django_process_state{process=%q,state="FATAL"}`, name)] != 0 || m["caddy_django_process_restarts_total"+l] != 0 {
			t.Errorf("%s: up/state/restarts wrong in %v", name, m)
		}
		if got := m["caddy_django_process_start_time_seconds"+l]; got < float64(st.StartedAt.Unix()) || got > float64(st.StartedAt.Unix()+1) {
			t.Errorf("%s: start time %v, want %v", name, got, st.StartedAt)
		}
	}
	if m["caddy_django_healthy"] != 1 {
		t.Errorf("caddy_django_healthy = %v", m["caddy_django_healthy"])
	}

	// Gunicorn's memory covers its master and its workers
	master := s.statuses()[gunicornName].PID
	var sum, workers int64
	for _, pid := range members {
		r := rssOf(t, pid)
		sum += r
		if pid != master {
			workers += r
		}
	}
	got := int64(m[`caddy_django_process_resident_memory_bytes{process="gunicorn"}`])
	if got < rssOf(t, master)+workers*9/10 || got > sum*12/10 {
		t.Errorf("gunicorn resident memory %d; /proc says master + workers = %d (workers %d)", got, sum, workers)
	}

	// crashes: both restarted, restarts_total grows, a new start time
	for _, name := range []string{gunicornName, "job"} {
		before := s.statuses()[name]
		if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, func() bool {
			st := s.statuses()[name]
			return st.State == StateRunning && st.PID != before.PID
		}, name+" restarted")
		l := fmt.Sprintf(`{process=%q}`, name)
		m = s.scrape()
		if got := m["caddy_django_process_restarts_total"+l]; got != 1 || m["caddy_django_process_up"+l] != 1 {
			t.Errorf("%s after a crash: restarts_total %v, up %v; want 1, 1", name, got, m["caddy_django_process_up"+l])
		}
		if got := m["caddy_django_process_start_time_seconds"+l]; got < float64(before.StartedAt.Unix()) || got == float64(before.StartedAt.UnixNano())/1e9 {
			t.Errorf("%s after a crash: start time %v, was %v", name, got, before.StartedAt)
		}
	}

	// a config reload (the processes are kept) keeps the counts, with no
	// duplicate registration
	if err := s.reload(s.config(s.admin, 2, "", "process job /bin/sleep 1000", "header X-Reloaded 1\n\tdjango_files")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return reloadedSite(s) }, "the reloaded config serving")
	m = s.scrape()
	for _, name := range []string{gunicornName, "job"} {
		if got := m[fmt.Sprintf(`caddy_django_process_restarts_total{process=%q}`, name)]; got != 1 {
			t.Errorf("%s after a config reload: restarts_total %v, want 1", name, got)
		}
	}

	// a stopped worker: down, STOPPED
	if code, out := s.post("/django/processes/job/stop"); code != http.StatusOK {
		t.Fatalf("stop job: %d %s", code, out)
	}
	m = s.scrape()
	if m[`caddy_django_process_up{process="job"}`] != 0 || m[`caddy_django_process_state{process="job",state="STOPPED"}`] != 1 ||
		m[`caddy_django_process_state{process="job",state="RUNNING"}`] != 0 {
		t.Errorf("stopped job: %v", m)
	}
}

// reloadedSite reports whether the site answers with the reloaded
// config's header.
func reloadedSite(s *djangoSite) bool {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(s.url("/hello/"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.Header.Get("X-Reloaded") == "1"
}

// TestRequestsWaitingMetric: requests held while Gunicorn starts are
// counted in caddy_django_requests_waiting and, once served, in the wait
// histogram; a request in Django counts as in flight to the upstream.
func TestRequestsWaitingMetric(t *testing.T) {
	t.Parallel()
	// Gunicorn's on_starting hook waits while the gate file exists
	gate := filepath.Join(t.TempDir(), "gate")
	hook := filepath.Join(t.TempDir(), "gate.py")
	mustWrite(t, hook, fmt.Sprintf("import os, time\n\ndef on_starting(server):\n    while os.path.exists(%q):\n        time.sleep(0.05)\n", gate))
	s := startDjangoSite(t, 1, "args -c "+hook, "")
	upstream := fmt.Sprintf(`caddy_django_upstream_requests_in_flight{upstream="127.0.0.1:%d"}`, s.gport)

	// in flight: a request in Django's view
	slow := make(chan int, 1)
	go func() { code, _ := postStatus(s.url("/slow-post/?seconds=3")); slow <- code }()
	waitFor(t, 20*time.Second, func() bool { return s.scrape()[upstream] == 1 }, "one request in flight")
	if code := <-slow; code != http.StatusOK {
		t.Fatalf("slow POST: %d", code)
	}
	if v := s.scrape()[upstream]; v != 0 {
		t.Errorf("in flight after the response: %v", v)
	}

	m := s.scrape()
	count, sum := m["caddy_django_request_wait_seconds_count"], m["caddy_django_request_wait_seconds_sum"]
	mustWrite(t, gate, "")
	if code, out := s.post("/django/processes/gunicorn/stop"); code != http.StatusOK {
		t.Fatalf("stop: %d %s", code, out)
	}
	if code, out := s.post("/django/processes/gunicorn/start"); code != http.StatusOK {
		t.Fatalf("start: %d %s", code, out)
	}
	const n = 3
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { code, _ := postStatus(s.url("/slow-post/?seconds=0")); codes <- code })
	}
	waitFor(t, 20*time.Second, func() bool { return s.scrape()["caddy_django_requests_waiting"] == n }, "3 requests waiting")
	allWaiting := time.Now()
	if st := s.statuses()[gunicornName]; st.State != StateStarting {
		t.Errorf("gunicorn %s while requests wait", st.State)
	}
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	held := time.Since(allWaiting).Seconds() // each waited at least this long
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("a held request got %d", code)
		}
	}
	m = s.scrape()
	if m["caddy_django_requests_waiting"] != 0 {
		t.Errorf("requests_waiting %v after they were served", m["caddy_django_requests_waiting"])
	}
	if got := m["caddy_django_request_wait_seconds_count"]; got < count+n {
		t.Errorf("wait histogram count %v, want at least %v", got, count+n)
	}
	if got := m["caddy_django_request_wait_seconds_sum"] - sum; got < n*held {
		t.Errorf("the held requests add %.3f s to the wait histogram's sum; each waited over %.3f s", got, held)
	}
}

// postStatus POSTs an empty body and returns the status (-1: no answer).
func postStatus(url string) (int, error) {
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Post(url, "text/plain", nil)
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
