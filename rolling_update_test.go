package caddydjango

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// Rolling updates behind a real load balancer (HAProxy, and Caddy's own
// reverse_proxy with active health checks), as Coolify, Docker Swarm and
// Kubernetes do them: start the new instance, wait until the balancer
// sends it requests, SIGTERM the old one. Both instances are caddy-django
// with the demo project on loopback; the balancers check /health often
// and never retry a request, so any request the old instance refuses or
// drops is a failure.

// lbCheckInterval is how often the balancers check health; a drain must
// outlast a few checks (two failures take an instance out) with room for
// a loaded machine.
const (
	lbCheckInterval = 300 * time.Millisecond
	rollingDrain    = "5s"
)

// rollingLoad sends GETs and POSTs through the balancer from a few
// kept-alive clients, each pausing between requests (sized for a 2-core
// machine shared with other tests: the balancers' health checks must not
// starve), and counts the answers by instance (X-Instance).
type rollingLoad struct {
	total, failed atomic.Int64
	mu            sync.Mutex
	byInstance    map[string]int
	errors        []string
	failedAt      []time.Time
	done          chan struct{}
	wg            sync.WaitGroup
}

func startRollingLoad(url string) *rollingLoad {
	l := &rollingLoad{byInstance: map[string]int{}, done: make(chan struct{})}
	for i := range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-l.done:
					return
				case <-time.After(10 * time.Millisecond):
				}
				var req *http.Request
				if i%2 == 0 {
					req, _ = http.NewRequest(http.MethodGet, url+"/hello/", nil)
				} else {
					req, _ = http.NewRequest(http.MethodPost, url+"/echo-size/", bytes.NewReader([]byte("x=1")))
				}
				l.record(client.Do(req))
			}
		}()
	}
	return l
}

func (l *rollingLoad) record(resp *http.Response, err error) {
	l.total.Add(1)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s %s from %q at %s: %.100q", resp.Request.Method, resp.Status, resp.Header.Get("X-Instance"), time.Now().Format("15:04:05.000"), body)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed.Add(1)
		l.failedAt = append(l.failedAt, time.Now())
		if len(l.errors) < 10 {
			l.errors = append(l.errors, err.Error())
		}
		return
	}
	l.byInstance[resp.Header.Get("X-Instance")]++
}

func (l *rollingLoad) answeredBy(instance string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byInstance[instance]
}

func (l *rollingLoad) stop() {
	close(l.done)
	l.wg.Wait()
}

// startInstance runs one caddy-django instance of project d on port
// hport, answering with X-Instance: name, with drain (a django option
// line) and the health endpoint; it returns once Gunicorn runs.
func startInstance(t *testing.T, d *djangoProject, hport int, name, drain string) *djangoSite {
	t.Helper()
	s := &djangoSite{project: d, gport: freePort(t), hport: hport}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return s.config(admin, 2, "", drain, "header X-Instance "+name+"\n\tdjango_files {\n\t\thealth /health\n\t}")
	}, d.Env...)
	s.waitState(gunicornName, StateRunning, 90*time.Second)
	return s
}

// rollingUpdate runs a rolling update from instance a to instance b (on
// ports pa and pb, which the balancer at url has in its pool) under load
// and returns the number of failed requests and the total.
func rollingUpdate(t *testing.T, url string, pa, pb int, drain string) (failed, total int64, errs []string, failedAt []time.Time) {
	t.Helper()
	d := newDjangoProject(t)
	a := startInstance(t, d, pa, "a", drain)
	// the balancer has taken b (not started) out and sends everything to a
	probe := startRollingLoad(url)
	waitFor(t, 60*time.Second, func() bool {
		if probe.failed.Load() > 0 { // b counted healthy, or a not yet: start over
			probe.stop()
			probe = startRollingLoad(url)
		}
		return probe.answeredBy("a") >= 40
	}, "the balancer sending every request to a")
	probe.stop()

	l := startRollingLoad(url)
	waitFor(t, 30*time.Second, func() bool { return l.answeredBy("a") >= 50 }, "load on a")
	b := startInstance(t, d, pb, "b", drain)
	waitFor(t, 60*time.Second, func() bool { return l.answeredBy("b") >= 20 }, "the balancer sending requests to b")
	t.Logf("SIGTERM to a at %s", time.Now().Format("15:04:05.000"))
	// what a's health endpoint answers meanwhile
	healthCodes := map[int]int{}
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-a.exited:
				return
			case <-time.After(100 * time.Millisecond):
			}
			code, _ := a.healthNow()
			healthCodes[code]++
		}
	}()
	a.signalAndWait(syscall.SIGTERM, 90*time.Second)
	<-polled
	t.Logf("a exited at %s; its health answered meanwhile (status: times, -1: no answer): %v", time.Now().Format("15:04:05.000"), healthCodes)
	if drain != "drain 0s" && healthCodes[http.StatusServiceUnavailable] == 0 {
		t.Errorf("%s: a's health never answered 503 while it stopped: %v", drain, healthCodes)
	}
	after := l.answeredBy("b")
	waitFor(t, 60*time.Second, func() bool { return l.answeredBy("b") >= after+200 }, "requests after a stopped")
	l.stop()
	b.signalAndWait(syscall.SIGTERM, 90*time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("drain %q: %d of %d requests failed (a answered %d, b %d): %v", drain, l.failed.Load(), l.total.Load(), l.byInstance["a"], l.byInstance["b"], l.errors)
	return l.failed.Load(), l.total.Load(), l.errors, l.failedAt
}

// TestRollingUpdateHAProxy: behind HAProxy checking /health every 300ms
// (two failures take a server out) and retrying nothing, a rolling update
// with `drain` loses no request; without a drain it does (printed: how
// many depends on timing).
func TestRollingUpdateHAProxy(t *testing.T) {
	t.Parallel()
	for _, drain := range []string{"drain " + rollingDrain, "drain 0s"} {
		pa, pb, front := freePort(t), freePort(t), freePort(t)
		h, err := testkit.StartHAProxy(fmt.Sprintf(`
defaults
	mode http
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	timeout check 5s
	retries 0

frontend fe
	bind 127.0.0.1:%d
	default_backend be

backend be
	balance roundrobin
	option httpchk GET /health
	http-check expect status 200
	default-server check inter %dms fall 2 rise 2
	server a 127.0.0.1:%d
	server b 127.0.0.1:%d
`, front, lbCheckInterval.Milliseconds(), pa, pb))
		if err != nil {
			t.Fatal(err)
		}
		failed, total, errs, _ := rollingUpdate(t, fmt.Sprintf("http://127.0.0.1:%d", front), pa, pb, drain)
		h.Stop()
		if drain != "drain 0s" && failed > 0 {
			t.Errorf("HAProxy, %s: %d of %d requests failed: %v", drain, failed, total, errs)
		}
	}
}

// TestRollingUpdateCaddyLB: the same behind a plain Caddy reverse_proxy
// with active health checks every 300ms (two failures take an upstream
// out, as with HAProxy: one slow check on a loaded machine must not) and
// no retries. Its lb_policy is random: round_robin in Caddy 2.11 may try
// the upstream that is out twice when requests come concurrently (each
// one's two tries advance a shared counter) and answer 503 "no upstreams
// available" while the other one is up.
func TestRollingUpdateCaddyLB(t *testing.T) {
	t.Parallel()
	for _, drain := range []string{"drain " + rollingDrain, "drain 0s"} {
		pa, pb, front := freePort(t), freePort(t), freePort(t)
		lb := startCaddy(t, t.TempDir(), func(admin string) string {
			return fmt.Sprintf(`{
	admin %s
	persist_config off
}
:%d {
	reverse_proxy 127.0.0.1:%d 127.0.0.1:%d {
		lb_policy random
		health_uri /health
		health_interval %dms
		health_timeout 5s
		health_fails 2
		health_passes 2
	}
}
`, admin, front, pa, pb, lbCheckInterval.Milliseconds())
		})
		failed, total, errs, failedAt := rollingUpdate(t, fmt.Sprintf("http://127.0.0.1:%d", front), pa, pb, drain)
		lb.signalAndWait(syscall.SIGTERM, 60*time.Second)
		if drain != "drain 0s" && failed > 0 {
			t.Errorf("Caddy reverse_proxy, %s: %d of %d requests failed: %v", drain, failed, total, errs)
			// what the balancer saw around them
			from, to := float64(failedAt[0].Add(-10*time.Second).UnixNano())/1e9, float64(failedAt[len(failedAt)-1].Add(time.Second).UnixNano())/1e9
			for _, e := range lb.entries(func(e logEntry) bool {
				ts, _ := e["ts"].(float64)
				return ts >= from && ts <= to && strings.HasPrefix(e.str("logger"), "http.handlers.reverse_proxy")
			}) {
				t.Logf("balancer log: %v", e)
			}
		}
	}
}
