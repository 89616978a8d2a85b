package caddydjango

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// postResult is the outcome of a POST sent through Caddy.
type postResult struct {
	code int
	body string
	err  error
}

// startSlowPost sends POST /slow-post/?seconds=N through Caddy (a POST: the
// proxy never retries it, so a lost request shows) and waits until it is in
// flight: Caddy holds a connection to Gunicorn's socket, which an idle sync
// worker accepts at once. (A connection Gunicorn had before, such as the
// readiness probe's, may close meanwhile: a new one is looked for, not a
// higher count.) The result arrives on the channel.
func startSlowPost(t *testing.T, s *djangoSite, seconds int) <-chan postResult {
	t.Helper()
	before := s.upstreamSockets()
	done := make(chan postResult, 1)
	go func() {
		c := &http.Client{Timeout: 120 * time.Second}
		resp, err := c.Post(s.url(fmt.Sprintf("/slow-post/?seconds=%d", seconds)), "text/plain", strings.NewReader("in flight"))
		if err != nil {
			done <- postResult{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- postResult{code: resp.StatusCode, body: string(b)}
	}()
	waitFor(t, 20*time.Second, func() bool {
		select {
		case r := <-done:
			t.Fatalf("the slow POST ended before it was seen in flight at gunicorn: %d %q %v", r.code, r.body, r.err)
		default:
		}
		for inode := range s.upstreamSockets() {
			if !before[inode] {
				return true
			}
		}
		return false
	}, "the slow POST to reach gunicorn")
	return done
}

// wantSlept waits for a slow POST's answer and wants 200 "slept N".
func wantSlept(t *testing.T, done <-chan postResult, seconds int, during string) {
	t.Helper()
	select {
	case r := <-done:
		if r.err != nil || r.code != http.StatusOK || !strings.HasPrefix(r.body, fmt.Sprintf("slept %d ", seconds)) {
			t.Errorf("POST in flight during %s: %d %q %v, want 200 \"slept %d …\"", during, r.code, r.body, r.err, seconds)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("POST in flight during %s: no answer", during)
	}
}

// caddyDjango runs `caddy django ARGS…` against s's admin API.
func caddyDjango(t *testing.T, s *djangoSite, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, append(args, "--address", s.admin)...)
	if code != 0 {
		t.Fatalf("caddy django %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestSignalHUPReloadsGunicornGracefully: `caddy django signal gunicorn
// HUP` is Gunicorn's graceful reload. The signal goes to the master only;
// sent to the whole group it killed every worker (they reset SIGHUP to its
// default action) and the POST in flight got 502.
func TestSignalHUPReloadsGunicornGracefully(t *testing.T) {
	t.Parallel()
	s := startDjangoSite(t, 2, "", "")
	master := s.statuses()[gunicornName].PID
	var workers []int
	waitFor(t, 30*time.Second, func() bool { workers = testkit.Descendants(master); return len(workers) == 2 }, "gunicorn's 2 workers")

	done := startSlowPost(t, s, 3)
	out := caddyDjango(t, s, "signal", gunicornName, "HUP")
	if !strings.Contains(out, "RUNNING") {
		t.Errorf("signal printed %q, want the status table", out)
	}
	wantSlept(t, done, 3, "signal HUP")

	// the master stays, its workers are replaced
	var now []int
	waitFor(t, 30*time.Second, func() bool {
		now = testkit.Descendants(master)
		return len(now) == 2 && !slices.ContainsFunc(now, func(pid int) bool { return slices.Contains(workers, pid) })
	}, fmt.Sprintf("2 new workers (old %v)", workers))
	st := s.statuses()[gunicornName]
	if st.PID != master || st.State != StateRunning || st.Restarts != 0 {
		t.Errorf("after HUP: %+v, want the same master %d RUNNING, not restarted", st, master)
	}
	if code, body := httpGet(s.url("/hello/")); code != 200 {
		t.Errorf("after HUP: /hello/ %d %q", code, body)
	}
	// (Gunicorn's own reload TERMs the old workers: an idle one may log
	// "terminated due to signal 15"; a HUP reaching them kills them with 1)
	if n := len(s.entries(func(e logEntry) bool {
		return e.str("logger") == "django.gunicorn" && strings.HasSuffix(e.str("msg"), "was terminated due to signal 1")
	})); n != 0 {
		t.Errorf("%d workers were killed by the HUP", n)
	}
}

// TestSignalTERMStillGoesToTheGroup: a stop signal still reaches every
// member of the group (a shell and its child that would outlive it).
func TestSignalTERMStillGoesToTheGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startCaddy(t, dir, func(admin string) string {
		return globalBlock(admin, `
		process tree /bin/sh -c "sleep 1000 & wait" {
			autorestart never
			startsecs 0
		}`)
	})
	st := c.waitState("tree", StateRunning, 10*time.Second)
	waitFor(t, 5*time.Second, func() bool { return len(groupMembers(st.PID)) == 2 }, "the shell and its child")
	members := groupMembers(st.PID)
	if code, body := c.post("/django/processes/tree/signal/TERM"); code != 200 {
		t.Fatalf("signal TERM: %d %s", code, body)
	}
	waitFor(t, 10*time.Second, func() bool {
		return !slices.ContainsFunc(members, testkit.Alive)
	}, fmt.Sprintf("every member of %v to exit on TERM", members))
}
